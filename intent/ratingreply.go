package intent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// ContentRatingReply is the COSE content type of a vendor's reply to a
// rating.
const ContentRatingReply = "intentcast/rating-reply"

const replyPowDomain = "intentcast/1/rating-reply-pow\x00"

// ErrWrongVendor reports a reply signed by a key that is not the rated
// vendor's: only the vendor of the deal may answer its rating.
var ErrWrongVendor = errors.New("reply is not by the rated vendor")

// RatingReply is the vendor's one public answer to a rating of its deal,
// signed with its long-term key.
type RatingReply struct {
	Version   uint   `cbor:"0,keyasint"`
	RatingID  []byte `cbor:"1,keyasint"` // 32 bytes: the ID of the rating answered
	VendorKey []byte `cbor:"2,keyasint"` // 32 bytes: signs the reply; must be the rated vendor's
	Text      string `cbor:"3,keyasint"` // 1..MaxReplyText bytes
	Created   int64  `cbor:"4,keyasint"`
	Nonce     []byte `cbor:"5,keyasint"` // proof-of-work nonce, last
}

// SignedRatingReply is a reply as it travels.
type SignedRatingReply struct {
	Raw      []byte
	ID       ID
	RatingID ID
	Body     RatingReply
	msg      *crypto.Sign1Message
}

// NewRatingReply signs the vendor's reply to r, after minting bits of work.
func NewRatingReply(ctx context.Context, r *SignedRating, vendor crypto.SigningKey, text string, now time.Time, bits int) (*SignedRatingReply, error) {
	body := RatingReply{Version: Version, RatingID: r.ID[:], VendorKey: vendor.Public(), Text: text, Created: now.Unix(), Nonce: make([]byte, NonceSize)}
	if err := body.check(); err != nil {
		return nil, fmt.Errorf("new rating reply: %w", err)
	}
	raw, err := signWorked(ctx, vendor, ContentRatingReply, replyPowDomain, body, bits)
	if err != nil {
		return nil, fmt.Errorf("new rating reply: %w", err)
	}
	return ParseRatingReply(raw)
}

func (r *RatingReply) check() error {
	if len(r.RatingID) != 32 {
		return fmt.Errorf("%w: rating id of %d bytes, want 32", ErrSchema, len(r.RatingID))
	}
	if err := checkSigningKey("vendor key", r.VendorKey); err != nil {
		return err
	}
	if err := checkTextField("reply text", r.Text, 1, MaxReplyText); err != nil {
		return err
	}
	if r.Created <= 0 {
		return fmt.Errorf("%w: created must be positive", ErrSchema)
	}
	if len(r.Nonce) != NonceSize {
		return fmt.Errorf("%w: nonce of %d bytes, want %d", ErrSchema, len(r.Nonce), NonceSize)
	}
	return nil
}

// ParseRatingReply runs the stateless checks short of work and signature.
func ParseRatingReply(raw []byte) (*SignedRatingReply, error) {
	if len(raw) > MaxReplySize {
		return nil, fmt.Errorf("rating reply: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxReplySize)
	}
	msg, err := parseSign1(raw, ContentRatingReply)
	if err != nil {
		return nil, fmt.Errorf("rating reply: %w", err)
	}
	return replyFrom(raw, msg)
}

func replyFrom(raw []byte, msg *crypto.Sign1Message) (*SignedRatingReply, error) {
	r := &SignedRatingReply{Raw: msg.Raw, ID: IDOf(raw), msg: msg}
	if _, err := decodeVersioned(msg.Payload, &r.Body, "rating reply payload"); err != nil {
		return nil, fmt.Errorf("rating reply: %w", err)
	}
	if err := r.Body.check(); err != nil {
		return nil, fmt.Errorf("rating reply: %w", err)
	}
	r.RatingID, _ = idFromBytes(r.Body.RatingID)
	return r, nil
}

// CheckSigned runs the checks that need no rating: work (Reject) and the
// signature under its own vendor key (Reject). A relay runs them before it
// looks the rating up.
func (r *SignedRatingReply) CheckSigned(p Policy) error {
	what := "rating reply " + r.ID.Short()
	if got, want := leadingZeros(domainHash(replyPowDomain, r.msg.Payload)), p.RatingWork(); got < want {
		return fmt.Errorf("%s: %w: %d bits, the network asks for %d", what, ErrInsufficientWork, got, want)
	}
	if err := r.msg.Verify(r.Body.VendorKey); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// RatedDeal is what a reply is checked against: the rating it answers, the
// rated vendor's key and when the rating was made. A node keeps these of
// every rating it holds, so it checks replies without parsing ratings again.
type RatedDeal struct {
	RatingID  ID
	VendorKey []byte
	Created   int64
}

// Rated is what a reply to r is checked against. r must be validated.
func (r *SignedRating) Rated() RatedDeal {
	return RatedDeal{RatingID: r.ID, VendorKey: r.VendorKey(), Created: r.Body.Created}
}

// Validate checks the reply against the validated rating it names: by the
// rated vendor (Reject), made no earlier than the rating (Reject), its
// version (Ignore), not from the future (Ignore). CheckSigned must have
// passed.
func (r *SignedRatingReply) Validate(rated RatedDeal, now time.Time, p Policy) error {
	what := "rating reply " + r.ID.Short()
	if rated.RatingID != r.RatingID {
		return fmt.Errorf("%s: %w: names rating %s, checked against %s", what, ErrSchema, r.RatingID.Short(), rated.RatingID.Short())
	}
	if string(rated.VendorKey) != string(r.Body.VendorKey) {
		return fmt.Errorf("%s: %w: signed by %x, the deal's vendor is %x", what, ErrWrongVendor, r.Body.VendorKey[:4], rated.VendorKey[:4])
	}
	if r.Body.Created < rated.Created {
		return fmt.Errorf("%s: %w: made at %v, before the rating (%v)", what, ErrNotBound, unixUTC(r.Body.Created), unixUTC(rated.Created))
	}
	if err := checkVersion(r.Body.Version); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return checkCreated(what, r.Body.Created, now, p)
}
