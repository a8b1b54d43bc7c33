package intent

import (
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// ContentCancel is the COSE content type of a cancel.
const ContentCancel = "intentcast/cancel"

// Cancel withdraws an intent. Signed with the intent's key; nodes drop the
// intent and keep a tombstone until the intent would have expired.
type Cancel struct {
	Version  uint   `cbor:"0,keyasint"`
	IntentID []byte `cbor:"1,keyasint"`
	Created  int64  `cbor:"2,keyasint"`
}

// SignedCancel is a cancel as it travels.
type SignedCancel struct {
	Raw      []byte
	ID       ID
	IntentID ID
	Body     Cancel
	msg      *crypto.Sign1Message
}

// NewCancel signs the withdrawal of in.
func NewCancel(in *SignedIntent, keys Keys, now time.Time) (*SignedCancel, error) {
	payload, err := marshal(Cancel{Version: Version, IntentID: in.ID[:], Created: now.Unix()})
	if err != nil {
		return nil, fmt.Errorf("new cancel: encode: %w", err)
	}
	raw, err := crypto.Sign1(keys.Signing, ContentCancel, payload)
	if err != nil {
		return nil, fmt.Errorf("new cancel: sign: %w", err)
	}
	return ParseCancel(raw)
}

// ParseCancel runs the stateless checks; Validate checks the signature
// against the intent.
func ParseCancel(raw []byte) (*SignedCancel, error) {
	if len(raw) > MaxCancelSize {
		return nil, fmt.Errorf("cancel: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxCancelSize)
	}
	msg, err := parseSign1(raw, ContentCancel)
	if err != nil {
		return nil, fmt.Errorf("cancel: %w", err)
	}
	return cancelFrom(raw, msg)
}

func cancelFrom(raw []byte, msg *crypto.Sign1Message) (*SignedCancel, error) {
	c := &SignedCancel{Raw: msg.Raw, ID: IDOf(raw), msg: msg}
	if _, err := decodeVersioned(msg.Payload, &c.Body, "cancel payload"); err != nil {
		return nil, fmt.Errorf("cancel: %w", err)
	}
	id, ok := idFromBytes(c.Body.IntentID)
	if !ok || c.Body.Created <= 0 {
		return nil, fmt.Errorf("cancel: %w: needs a 32-byte intent id and a positive created time", ErrSchema)
	}
	c.IntentID = id
	return c, nil
}

// Validate checks the cancel against the intent it names.
func (c *SignedCancel) Validate(in *SignedIntent, now time.Time, p Policy) error {
	return validateByIntent("cancel", c.ID, c.msg, c.Body.Version, c.IntentID, c.Body.Created, in, now, p)
}
