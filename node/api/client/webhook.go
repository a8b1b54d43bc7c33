package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A webhook delivery is a POST of an EventView as JSON, signed with the
// webhook's secret (docs/API.md, "Webhooks"):
//
//	X-Intentcast-Timestamp: <unix seconds of this attempt>
//	X-Intentcast-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

// Sign returns the hex HMAC-SHA256 of timestamp + "." + body under
// secret: the value of X-Intentcast-Signature after "sha256=".
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a delivery's signature header in constant time
// and that its timestamp is within maxAge of now (0 skips that check). A
// receiver written in Go can use it as is.
func VerifySignature(secret, timestamp, signature string, body []byte, maxAge time.Duration, now time.Time) error {
	hexSig, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return errors.New("signature header does not start with sha256=")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errors.New("signature is not hex")
	}
	want, _ := hex.DecodeString(Sign(secret, timestamp, body))
	if !hmac.Equal(got, want) {
		return errors.New("signature does not match: wrong secret, or the body or timestamp was changed")
	}
	if maxAge > 0 {
		sec, err := strconv.ParseInt(timestamp, 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %q is not unix seconds", timestamp)
		}
		if age := now.Sub(time.Unix(sec, 0)); age > maxAge || age < -maxAge {
			return fmt.Errorf("timestamp is %v away from now, more than %v: a replay?", age.Round(time.Second), maxAge)
		}
	}
	return nil
}
