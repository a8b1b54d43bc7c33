package intent

import (
	"errors"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// ContentAccept is the COSE content type of an accept.
const ContentAccept = "intentcast/accept"

// acceptInfoDomain prefixes the HPKE info of an accept's sealed details; the
// offer ID follows.
const acceptInfoDomain = "intentcast/1/accept\x00"

// Accept is the customer's choice of one offer, signed with the intent's
// key: only the intent's author can make it. With the offer it forms the deal
// record both sides keep.
type Accept struct {
	Version  uint   `cbor:"0,keyasint"`
	IntentID []byte `cbor:"1,keyasint"`
	OfferID  []byte `cbor:"2,keyasint"`
	Created  int64  `cbor:"3,keyasint"`
	Details  []byte `cbor:"4,keyasint,omitempty"` // contact or delivery details, sealed to the vendor
	// OfferHash is OfferHash of the vendor-signed offer inside the sealed
	// one. The offer ID names bytes only the customer can open; this names
	// what the vendor signed, so a deal record binds the accept to one
	// offer of one vendor without anyone's private key.
	OfferHash []byte `cbor:"5,keyasint"`
}

// SignedAccept is an accept as it travels.
type SignedAccept struct {
	Raw      []byte
	ID       ID
	IntentID ID
	OfferID  ID
	Body     Accept
	msg      *crypto.Sign1Message
}

// NewAccept signs the acceptance of offer (whose sealed form has offerID)
// with the intent's key. details, if any, are sealed to the vendor's reply
// key so only the vendor reads them.
func NewAccept(in *SignedIntent, keys Keys, offerID ID, offer *SignedOffer, details []byte, now time.Time) (*SignedAccept, error) {
	oh := OfferHash(offer.Raw)
	body := Accept{Version: Version, IntentID: in.ID[:], OfferID: offerID[:], Created: now.Unix(), OfferHash: oh[:]}
	if suite := crypto.Suite(offer.Body.VendorReplyKey.Suite); len(details) > MaxDetails(suite) {
		return nil, fmt.Errorf("new accept: %w: %d bytes, at most %d when sealed to a vendor's %s key",
			ErrDetailsTooLarge, len(details), MaxDetails(suite), suite)
	}
	if len(details) > 0 {
		sealed, err := crypto.Seal(offer.Body.VendorReplyKey.public(), acceptInfo(offerID), nil, details)
		if err != nil {
			return nil, fmt.Errorf("new accept: seal details: %w", err)
		}
		body.Details = sealed
	}
	if err := body.check(); err != nil {
		return nil, fmt.Errorf("new accept: %w", err)
	}
	payload, err := marshal(body)
	if err != nil {
		return nil, fmt.Errorf("new accept: encode: %w", err)
	}
	raw, err := crypto.Sign1(keys.Signing, ContentAccept, payload)
	if err != nil {
		return nil, fmt.Errorf("new accept: sign: %w", err)
	}
	return ParseAccept(raw)
}

// ErrDetailsTooLarge reports accept details that, once sealed, would
// exceed MaxAcceptDetail.
var ErrDetailsTooLarge = errors.New("accept details too large")

// MaxDetails is the most plaintext that fits MaxAcceptDetail sealed to a
// vendor reply key of suite s: 2000 bytes for X25519, 912 for X-Wing.
func MaxDetails(s crypto.Suite) int { return MaxAcceptDetail - s.SealOverhead() }

func (a *Accept) check() error {
	if len(a.IntentID) != 32 || len(a.OfferID) != 32 || len(a.OfferHash) != 32 {
		return fmt.Errorf("%w: intent id, offer id and offer hash must be 32 bytes", ErrSchema)
	}
	if a.Created <= 0 {
		return fmt.Errorf("%w: created must be positive", ErrSchema)
	}
	if len(a.Details) > MaxAcceptDetail {
		return fmt.Errorf("%w: sealed details of %d bytes, at most %d", ErrSchema, len(a.Details), MaxAcceptDetail)
	}
	return nil
}

// ParseAccept runs the stateless checks. Its signature can only be checked
// against the intent it names: see Validate.
func ParseAccept(raw []byte) (*SignedAccept, error) {
	if len(raw) > MaxAcceptSize {
		return nil, fmt.Errorf("accept: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxAcceptSize)
	}
	msg, err := parseSign1(raw, ContentAccept)
	if err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	return acceptFrom(raw, msg)
}

func acceptFrom(raw []byte, msg *crypto.Sign1Message) (*SignedAccept, error) {
	a := &SignedAccept{Raw: msg.Raw, ID: IDOf(raw), msg: msg}
	if _, err := decodeVersioned(msg.Payload, &a.Body, "accept payload"); err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	if err := a.Body.check(); err != nil {
		return nil, fmt.Errorf("accept: %w", err)
	}
	a.IntentID, _ = idFromBytes(a.Body.IntentID)
	a.OfferID, _ = idFromBytes(a.Body.OfferID)
	return a, nil
}

// Validate checks the accept against the intent it names: the intent's key
// signed it (Reject otherwise), it is not from the future and the intent has
// not expired (Ignore).
func (a *SignedAccept) Validate(in *SignedIntent, now time.Time, p Policy) error {
	return validateByIntent("accept", a.ID, a.msg, a.Body.Version, a.IntentID, a.Body.Created, in, now, p)
}

// Commits reports whether the accept commits to exactly this vendor-signed
// offer.
func (a *SignedAccept) Commits(offer *SignedOffer) bool {
	h := OfferHash(offer.Raw)
	return string(a.Body.OfferHash) == string(h[:])
}

// OpenDetails opens the sealed details with the vendor's reply key.
func (a *SignedAccept) OpenDetails(vendorReply crypto.ReplyKey) ([]byte, error) {
	if len(a.Body.Details) == 0 {
		return nil, nil
	}
	d, err := crypto.Open(vendorReply, acceptInfo(a.OfferID), nil, a.Body.Details)
	if err != nil {
		return nil, fmt.Errorf("accept %s: details: %w", a.ID.Short(), err)
	}
	return d, nil
}

func acceptInfo(offerID ID) []byte {
	return append([]byte(acceptInfoDomain), offerID[:]...)
}

// validateByIntent is shared by accepts and cancels: both are signed by the
// intent's key and live no longer than the intent.
func validateByIntent(kind string, id ID, msg *crypto.Sign1Message, version uint, intentID ID, created int64, in *SignedIntent, now time.Time, p Policy) error {
	if in.ID != intentID {
		return fmt.Errorf("%s %s: %w: names intent %s, checked against %s", kind, id.Short(), ErrSchema, intentID.Short(), in.ID.Short())
	}
	err := in.verifySigned(msg)
	if err == nil {
		err = checkVersion(version)
	}
	if err == nil {
		err = checkWindow(created, in.Body.Expires, now, p)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, id.Short(), err)
	}
	return nil
}
