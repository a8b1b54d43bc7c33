package intent

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/intentcast/intentcast/crypto"
)

// ContentRating is the COSE content type of a rating.
const ContentRating = "intentcast/rating"

// ratingPowDomain prefixes the proof-of-work hash of a rating's payload.
const ratingPowDomain = "intentcast/1/rating-pow\x00"

// ErrNoDeal reports a rating whose deal record does not verify: it proves
// no deal between its intent key and a vendor key, so it rates nothing.
var ErrNoDeal = errors.New("rating carries no valid deal")

// Rating is a customer's verdict on one deal, signed with the deal's intent
// key: only the customer who accepted can make it. It carries the whole deal
// record, so any node checks, with nothing but the rating, that the deal
// happened and with which vendor key; the rating outlives the intent.
type Rating struct {
	Version uint   `cbor:"0,keyasint"`
	Deal    []byte `cbor:"1,keyasint"` // a deal record (docs/PROTOCOL.md, Deal records)
	Score   uint   `cbor:"2,keyasint"` // 1..5
	Text    string `cbor:"3,keyasint,omitempty"`
	Created int64  `cbor:"4,keyasint"`
	// Nonce is the proof-of-work nonce: the highest key, so the last 8
	// bytes of the payload, as in an intent.
	Nonce []byte `cbor:"5,keyasint"`
}

// SignedRating is a rating as it travels.
type SignedRating struct {
	Raw  []byte
	ID   ID
	Body Rating
	// Deal is the verified deal record; set by Validate.
	Deal *DealRecord
	msg  *crypto.Sign1Message
}

// IntentID is what one rating per deal is counted by: the rated deal's
// intent. (Not the accept: an intent key that signs several accepts of its
// own intent would get several ratings for one intent's work.)
func (r *SignedRating) IntentID() ID { return r.Deal.Intent.ID }

// VendorKey is the rated vendor's key, from the deal's offer.
func (r *SignedRating) VendorKey() []byte { return r.Deal.Offer.Body.VendorKey }

// CreatedAt is when the customer made the rating.
func (r *SignedRating) CreatedAt() time.Time { return time.Unix(r.Body.Created, 0) }

// RatingDraft is what a customer says about a deal.
type RatingDraft struct {
	Score   uint
	Text    string
	Created time.Time
}

// NewRating signs a rating of the deal in record with the intent's signing
// key, after minting bits of work on it (ctx cancels the minting).
func NewRating(ctx context.Context, record []byte, signing crypto.SigningKey, d RatingDraft, bits int) (*SignedRating, error) {
	body := Rating{Version: Version, Deal: record, Score: d.Score, Text: d.Text, Created: d.Created.Unix(), Nonce: make([]byte, NonceSize)}
	if err := body.check(); err != nil {
		return nil, fmt.Errorf("new rating: %w", err)
	}
	raw, err := signWorked(ctx, signing, ContentRating, ratingPowDomain, body, bits)
	if err != nil {
		return nil, fmt.Errorf("new rating: %w", err)
	}
	return ParseRating(raw)
}

func (r *Rating) check() error {
	if len(r.Deal) == 0 || len(r.Deal) > MaxDealRecordSize {
		return fmt.Errorf("%w: deal record of %d bytes, 1..%d", ErrSchema, len(r.Deal), MaxDealRecordSize)
	}
	if r.Score < 1 || r.Score > MaxScore {
		return fmt.Errorf("%w: score %d, 1..%d", ErrSchema, r.Score, MaxScore)
	}
	if len(r.Text) > MaxRatingText {
		return fmt.Errorf("%w: rating text of %d bytes, at most %d", ErrSchema, len(r.Text), MaxRatingText)
	}
	if r.Created <= 0 {
		return fmt.Errorf("%w: created must be positive", ErrSchema)
	}
	if len(r.Nonce) != NonceSize {
		return fmt.Errorf("%w: nonce of %d bytes, want %d", ErrSchema, len(r.Nonce), NonceSize)
	}
	return nil
}

// ParseRating runs the stateless checks that need no signature: size,
// envelope, strict canonical decoding and schema. Validate does the rest.
func ParseRating(raw []byte) (*SignedRating, error) {
	if len(raw) > MaxRatingSize {
		return nil, fmt.Errorf("rating: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxRatingSize)
	}
	msg, err := parseSign1(raw, ContentRating)
	if err != nil {
		return nil, fmt.Errorf("rating: %w", err)
	}
	return ratingFrom(raw, msg)
}

func ratingFrom(raw []byte, msg *crypto.Sign1Message) (*SignedRating, error) {
	r := &SignedRating{Raw: msg.Raw, ID: IDOf(raw), msg: msg}
	if _, err := decodeVersioned(msg.Payload, &r.Body, "rating payload"); err != nil {
		return nil, fmt.Errorf("rating: %w", err)
	}
	if err := r.Body.check(); err != nil {
		return nil, fmt.Errorf("rating: %w", err)
	}
	return r, nil
}

// Validate runs the rest of a rating's checks, in the protocol's order:
// its work (Reject), its deal record (Reject with ErrNoDeal, unless only the
// accept is from the future: Ignore), the deal's intent carried the
// network's work (Reject), the signature under the deal intent's key
// (Reject), made no earlier than the accept (Reject), its version (Ignore)
// and not from the future (Ignore). On success r.Deal is set.
func (r *SignedRating) Validate(now time.Time, p Policy) error {
	what := "rating " + r.ID.Short()
	if got, want := leadingZeros(domainHash(ratingPowDomain, r.msg.Payload)), p.RatingWork(); got < want {
		return fmt.Errorf("%s: %w: %d bits, the network asks for %d", what, ErrInsufficientWork, got, want)
	}
	d, err := VerifyDealRecord(r.Body.Deal, now)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", what, ErrNoDeal, err)
	}
	in := d.Intent.Body
	if want := p.MinWorkFor(in.Category); int(in.Work) < want {
		return fmt.Errorf("%s: %w: the rated intent carries %d bits, the network asks for %d", what, ErrInsufficientWork, in.Work, want)
	}
	if err := r.msg.Verify(in.SigningKey); err != nil {
		return fmt.Errorf("%s: not signed by the deal's intent key: %w", what, err)
	}
	if r.Body.Created < d.Accept.Body.Created {
		return fmt.Errorf("%s: %w: rated at %v, before the accept (%v)", what, ErrNotBound, unixUTC(r.Body.Created), unixUTC(d.Accept.Body.Created))
	}
	if err := checkVersion(r.Body.Version); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := checkCreated(what, r.Body.Created, now, p); err != nil {
		return err
	}
	r.Deal = d
	return nil
}

// checkCreated is the time window of a message that does not expire: not
// made after now plus the skew.
func checkCreated(what string, created int64, now time.Time, p Policy) error {
	if time.Unix(created, 0).After(now.Add(p.Skew())) {
		return fmt.Errorf("%s: %w: created %v", what, ErrFromFuture, unixUTC(created))
	}
	return nil
}

// signWorked encodes body (whose last key must be an 8-byte nonce), mints
// bits of work under domain on the payload and signs it.
func signWorked(ctx context.Context, k crypto.SigningKey, contentType, domain string, body any, bits int) ([]byte, error) {
	payload, err := marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if err := mint(ctx, domain, payload, bits, nil); err != nil {
		return nil, err
	}
	raw, err := crypto.Sign1(k, contentType, payload)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return raw, nil
}

// checkTextField checks a required or optional text of a trust message.
func checkTextField(what, s string, minLen, maxLen int) error {
	if len(s) < minLen || len(s) > maxLen {
		return fmt.Errorf("%w: %s of %d bytes, %d..%d", ErrSchema, what, len(s), minLen, maxLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrSchema, what)
	}
	return nil
}
