package vectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// The markers around the generated rating vectors in docs/PROTOCOL.md
// (section Ratings).
const (
	RatingBeginMarker = "<!-- rating-vectors:begin -->"
	RatingEndMarker   = "<!-- rating-vectors:end -->"
)

// Kinds of the ratings topic, named like their content types.
const (
	KindRating  = "rating"
	KindReply   = "rating-reply"
	KindProfile = "vendor-profile"
)

// The times of the trust messages: after the accept (now - 1 min).
var (
	ratingCreated      = now.Add(-20 * time.Second)
	ratingReplyCreated = now.Add(-10 * time.Second)
	profileCreated     = now.Add(-15 * time.Second)
)

// minRatingWork is the vectors' network minimum for ratings, replies and
// profiles.
const minRatingWork = 8

// The proof-of-work domains, written out here as a second implementation
// would from docs/PROTOCOL.md.
const (
	ratingPow  = "intentcast/1/rating-pow\x00"
	replyPow   = "intentcast/1/rating-reply-pow\x00"
	profilePow = "intentcast/1/vendor-profile-pow\x00"
)

type ratingBody struct {
	Version uint   `cbor:"0,keyasint"`
	Deal    []byte `cbor:"1,keyasint"`
	Score   uint   `cbor:"2,keyasint"`
	Text    string `cbor:"3,keyasint,omitempty"`
	Created int64  `cbor:"4,keyasint"`
	Nonce   []byte `cbor:"5,keyasint"`
}

type replyBody struct {
	Version   uint   `cbor:"0,keyasint"`
	RatingID  []byte `cbor:"1,keyasint"`
	VendorKey []byte `cbor:"2,keyasint"`
	Text      string `cbor:"3,keyasint"`
	Created   int64  `cbor:"4,keyasint"`
	Nonce     []byte `cbor:"5,keyasint"`
}

type profileBody struct {
	Version     uint   `cbor:"0,keyasint"`
	VendorKey   []byte `cbor:"1,keyasint"`
	Name        string `cbor:"2,keyasint"`
	URL         string `cbor:"3,keyasint,omitempty"`
	Description string `cbor:"4,keyasint,omitempty"`
	Created     int64  `cbor:"5,keyasint"`
	Nonce       []byte `cbor:"6,keyasint"`
}

// workOf is the leading zero bits of SHA-256(domain || payload).
func workOf(domain string, payload []byte) int {
	h := sha256.Sum256(append([]byte(domain), payload...))
	n := 0
	for _, b := range h {
		if b != 0 {
			for ; b&0x80 == 0; b <<= 1 {
				n++
			}
			return n
		}
		n += 8
	}
	return n
}

// mintIn counts the last 8 bytes of payload up from 0 until the payload
// has bits of work under domain (enough: true) or, with enough false, until
// it has fewer (a vector whose work misses).
func mintIn(domain string, payload []byte, bits int, enough bool) {
	nonce := payload[len(payload)-intent.NonceSize:]
	for n := uint64(0); ; n++ {
		binary.BigEndian.PutUint64(nonce, n)
		if (workOf(domain, payload) >= bits) == enough {
			return
		}
	}
}

// worked encodes body, lets change rewrite the payload, mints its work (or
// a nonce that misses it) and signs it with k.
func worked(k crypto.SigningKey, ct, domain string, body any, enough bool, change func([]byte) ([]byte, error)) ([]byte, error) {
	p, err := encodeChanged(body, change)
	if err != nil {
		return nil, err
	}
	mintIn(domain, p, minRatingWork, enough)
	return sign(k, ct, p)
}

// ratings adds the vectors of the ratings topic. It runs after
// dealRecords, whose records it carries.
func (g *generator) ratings() error {
	var good, other []byte
	for _, d := range g.set.Deals {
		switch d.Name {
		case "deal-record":
			good = d.Wire
		case "deal-record-other-offer":
			other = d.Wire
		}
	}
	if good == nil || other == nil {
		return fmt.Errorf("ratings: the deal record vectors are missing")
	}
	accept, err := intent.ParseAccept(g.set.Vector("accept").Wire)
	if err != nil {
		return err
	}
	topic := intent.RatingsTopic
	add := func(v Vec) {
		v.Topic = topic
		v.ID = intent.IDOf(v.Wire).String()
		g.set.Ratings = append(g.set.Ratings, v)
	}
	base := ratingBody{Version: intent.Version, Deal: good, Score: 5, Text: "Arrived in two days, exactly as offered. Gerne wieder.",
		Created: ratingCreated.Unix(), Nonce: make([]byte, intent.NonceSize)}
	rating := func(b ratingBody, k crypto.SigningKey, enough bool, change func([]byte) ([]byte, error)) ([]byte, error) {
		return worked(k, intent.ContentRating, ratingPow, b, enough, change)
	}
	valid, err := rating(base, g.intentKey, true, nil)
	if err != nil {
		return err
	}
	add(Vec{Name: "rating", Kind: KindRating, Verdict: Valid, Wire: valid,
		Description: "A valid rating (score 5) of the deal in vector deal-record, signed by the intent's key, with 8 bits of rating work."})

	cases := []struct {
		name, verdict, code, desc string
		body                      func(*ratingBody)
		key                       crypto.SigningKey
		short                     bool
		change                    func([]byte) ([]byte, error)
	}{
		{name: "rating-no-deal", verdict: Reject, code: "no-deal",
			desc: "Carries deal-record-other-offer: the accept commits to another offer than the one in the record, so it proves no deal with that offer (check accept-offer fails).",
			body: func(b *ratingBody) { b.Deal = other }},
		{name: "rating-wrong-key", verdict: Reject, code: "bad-signature",
			desc: "The valid rating's payload signed with the vendor's key instead of the intent's.",
			key:  g.vendorKey},
		{name: "rating-insufficient-work", verdict: Reject, code: "insufficient-work",
			desc:  "The valid rating with a nonce whose hash has fewer than the 8 bits of rating work.",
			short: true},
		{name: "rating-score-6", verdict: Reject, code: "schema",
			desc: "Score 6: scores are 1..5.",
			body: func(b *ratingBody) { b.Score = 6 }},
		{name: "rating-non-canonical", verdict: Reject, code: "non-canonical",
			desc:   "The valid rating with its score (key 2) encoded as 0x18 0x05 instead of 0x05.",
			change: func(p []byte) ([]byte, error) { return edit(p, 2, func(v []byte) []byte { return []byte{0x18, v[0]} }) }},
		{name: "rating-before-accept", verdict: Reject, code: "not-bound",
			desc: "Created one second before the accept it rates.",
			body: func(b *ratingBody) { b.Created = accept.Body.Created - 1 }},
		{name: "rating-from-future", verdict: Ignore, code: "from-future",
			desc: "Created one hour after now.",
			body: func(b *ratingBody) { b.Created = now.Unix() + 3600 }},
		{name: "rating-oversized", verdict: Reject, code: "too-large",
			desc: "A rating of 21 505 bytes, one over the bound (its text is padded far over 512 bytes too; the size is checked first).",
			// -1: the padded text's head is 3 bytes, the valid one's 2.
			body: func(b *ratingBody) { b.Text = strings.Repeat("x", 21505-len(valid)+len(b.Text)-1) }},
	}
	for _, c := range cases {
		b := base
		if c.body != nil {
			c.body(&b)
		}
		k := g.intentKey
		if !c.key.IsZero() {
			k = c.key
		}
		wire, err := rating(b, k, !c.short, c.change)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		add(Vec{Name: c.name, Kind: KindRating, Verdict: c.verdict, Error: c.code, Wire: wire, Description: c.desc})
	}
	if v := g.set.Ratings[len(g.set.Ratings)-1]; len(v.Wire) != intent.MaxRatingSize+1 {
		return fmt.Errorf("rating-oversized is %d bytes, want %d", len(v.Wire), intent.MaxRatingSize+1)
	}

	ratingID := intent.IDOf(valid)
	reply := replyBody{Version: intent.Version, RatingID: ratingID[:], VendorKey: g.vendorKey.Public(),
		Text: "Thank you! Glad it arrived in time.", Created: ratingReplyCreated.Unix(), Nonce: make([]byte, intent.NonceSize)}
	rw, err := worked(g.vendorKey, intent.ContentRatingReply, replyPow, reply, true, nil)
	if err != nil {
		return err
	}
	add(Vec{Name: "rating-reply", Kind: KindReply, Intent: "rating", Verdict: Valid, Wire: rw,
		Description: "The vendor's valid reply to the rating vector, signed by the vendor's key."})
	stranger := reply
	stranger.VendorKey = g.intentKey.Public()
	sw, err := worked(g.intentKey, intent.ContentRatingReply, replyPow, stranger, true, nil)
	if err != nil {
		return err
	}
	add(Vec{Name: "rating-reply-wrong-vendor", Kind: KindReply, Intent: "rating", Verdict: Reject, Error: "wrong-vendor", Wire: sw,
		Description: "A reply to the rating vector, well signed by the key it names (key 2, the intent's key), which is not the rated deal's vendor key."})
	forged, err := worked(g.intentKey, intent.ContentRatingReply, replyPow, reply, true, nil)
	if err != nil {
		return err
	}
	add(Vec{Name: "rating-reply-bad-signature", Kind: KindReply, Intent: "rating", Verdict: Reject, Error: "bad-signature", Wire: forged,
		Description: "The valid reply's payload (naming the vendor's key) signed with the intent's key."})

	profile := profileBody{Version: intent.Version, VendorKey: g.vendorKey.Public(), Name: "Laptop Laden", URL: "https://laptops.example",
		Description: "Refurbished and new laptops, Berlin. Two-year warranty on everything.", Created: profileCreated.Unix(), Nonce: make([]byte, intent.NonceSize)}
	pw, err := worked(g.vendorKey, intent.ContentVendorProfile, profilePow, profile, true, nil)
	if err != nil {
		return err
	}
	add(Vec{Name: "vendor-profile", Kind: KindProfile, Verdict: Valid, Wire: pw,
		Description: "A valid profile of the vendor's key, signed by it."})
	bad := profile
	bad.URL = "javascript:alert(1)"
	bw, err := worked(g.vendorKey, intent.ContentVendorProfile, profilePow, bad, true, nil)
	if err != nil {
		return err
	}
	add(Vec{Name: "vendor-profile-bad-url", Kind: KindProfile, Verdict: Reject, Error: "schema", Wire: bw,
		Description: "A profile whose URL is not http(s): a page would show it as a link."})
	add(Vec{Name: "intent-on-ratings-topic", Kind: KindIntent, Verdict: Reject, Error: "wrong-topic", Wire: g.set.Vector("intent").Wire,
		Description: "The valid intent vector received on the ratings topic."})
	return nil
}

// RatingMarkdown renders the rating vectors for docs/PROTOCOL.md: the text
// between the rating markers.
func (s *Set) RatingMarkdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\n<!-- Generated by `go run ./intent/internal/vectors/cmd/genvectors`: do not edit by hand. -->\n\n")
	w("In [`intent/testdata/vectors.json`](../intent/testdata/vectors.json) under `ratings`; checked by\n")
	w("`intent/rating_vectors_test.go`. Check each at now = %d, with the [keys](#keys) of the test vectors,\n", s.Now)
	w("**%d** bits of rating work, the network's intent work of the [test vectors](#test-vectors) (%d bits) and\n", s.MinRatingWork, s.MinWork)
	w("the clock skew %d s, as received on `%s`. A reply is checked against the rating in its\n", s.MaxSkew, intent.RatingsTopic)
	w("*against* column.\n\n")
	w("| vector | kind | against | verdict | error | bytes |\n|---|---|---|---|---|---|\n")
	for _, v := range s.Ratings {
		w("| %s | %s | %s | %s | %s | %d |\n", v.Name, v.Kind, or(v.Intent, "-"), v.Verdict, or(v.Error, "-"), len(v.Wire))
	}
	for _, v := range s.Ratings {
		w("\n#### %s\n\n%s\n\n", v.Name, v.Description)
		w("- verdict: **%s**", v.Verdict)
		if v.Error != "" {
			w(" (`%s`)", v.Error)
		}
		w("\n- ID (SHA-256 of the wire bytes): `%s`\n", v.ID)
		if len(v.Wire) > maxShownWire || bytes.Equal(v.Wire, s.Vector("intent").Wire) {
			w("\nWire: %d bytes, only in vectors.json.\n", len(v.Wire))
			continue
		}
		w("\nWire (%d bytes):\n\n```\n%s```\n", len(v.Wire), wrapHex(v.Wire))
	}
	return b.String()
}
