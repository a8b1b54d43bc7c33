package intent

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// ContentOffer is the COSE content type of a vendor-signed offer (the inside
// of a sealed offer).
const ContentOffer = "intentcast/offer"

// offerInfoDomain prefixes the HPKE info of a sealed offer; the intent ID
// follows, so a sealed offer cannot be replayed against another intent.
const offerInfoDomain = "intentcast/1/offer\x00"

// Offer is a vendor's answer to one intent: a price and a signed commitment
// to the customer's terms (by their hash). Only the customer can read it: it
// travels sealed to the intent's reply key.
type Offer struct {
	Version        uint     `cbor:"0,keyasint"`
	IntentID       []byte   `cbor:"1,keyasint"` // 32 bytes
	TermsHash      []byte   `cbor:"2,keyasint"` // TermsHash of the intent's terms
	Price          uint64   `cbor:"3,keyasint"` // minor units
	Currency       string   `cbor:"4,keyasint"`
	Text           string   `cbor:"5,keyasint,omitempty"`
	Created        int64    `cbor:"6,keyasint"`
	ValidUntil     int64    `cbor:"7,keyasint"`
	Vendor         Vendor   `cbor:"8,keyasint"`
	VendorKey      []byte   `cbor:"9,keyasint"`  // the vendor's long-term Ed25519 key
	VendorReplyKey ReplyKey `cbor:"10,keyasint"` // accept details are sealed to it
}

// Vendor is how a vendor presents itself.
type Vendor struct {
	Name string `cbor:"0,keyasint"`
	URL  string `cbor:"1,keyasint,omitempty"`
}

func (o *Offer) check() error {
	if len(o.IntentID) != 32 || len(o.TermsHash) != 32 {
		return fmt.Errorf("%w: intent id and terms hash must be 32 bytes", ErrSchema)
	}
	if o.Price > MaxPrice {
		return fmt.Errorf("%w: price %d over %d minor units", ErrSchema, o.Price, uint64(MaxPrice))
	}
	if err := CheckCurrency(o.Currency); err != nil {
		return err
	}
	if len(o.Text) > MaxText {
		return fmt.Errorf("%w: offer text of %d bytes, at most %d", ErrSchema, len(o.Text), MaxText)
	}
	if o.Created <= 0 || o.ValidUntil <= o.Created {
		return fmt.Errorf("%w: valid-until (%d) must come after created (%d)", ErrSchema, o.ValidUntil, o.Created)
	}
	// In seconds, as for an intent's lifetime: a Duration could overflow.
	if ttl := o.ValidUntil - o.Created; ttl > int64(MaxOfferTTL/time.Second) {
		return fmt.Errorf("%w: offer valid for %d s, at most %v", ErrLifetime, ttl, MaxOfferTTL)
	}
	if o.Vendor.Name == "" || len(o.Vendor.Name) > MaxVendorName || len(o.Vendor.URL) > MaxVendorURL {
		return fmt.Errorf("%w: vendor name must be 1..%d bytes and url at most %d", ErrSchema, MaxVendorName, MaxVendorURL)
	}
	if err := checkSigningKey("vendor key", o.VendorKey); err != nil {
		return err
	}
	if err := o.VendorReplyKey.check("vendor reply key"); err != nil {
		return err
	}
	return nil
}

// SignedOffer is an opened offer: the vendor-signed COSE bytes and the body.
type SignedOffer struct {
	Raw  []byte
	Body Offer
}

// OfferHash is the SHA-256 of a vendor-signed offer's COSE bytes (the
// inside of a sealed offer), which an accept commits to.
func OfferHash(inner []byte) [32]byte { return sha256.Sum256(inner) }

// ValidUntilAt returns when the offer lapses.
func (o *SignedOffer) ValidUntilAt() time.Time { return time.Unix(o.Body.ValidUntil, 0) }

// ParseOffer parses and verifies a vendor-signed offer: envelope, canonical
// payload, schema and the vendor's signature. It does not compare the offer
// with an intent; OpenOffer does.
func ParseOffer(raw []byte) (*SignedOffer, error) {
	msg, err := parseSign1(raw, ContentOffer)
	if err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	o := &SignedOffer{Raw: raw}
	if _, err := decodeVersioned(msg.Payload, &o.Body, "offer payload"); err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	if err := o.Body.check(); err != nil {
		return o, fmt.Errorf("offer: %w", err)
	}
	if err := msg.Verify(o.Body.VendorKey); err != nil {
		return o, fmt.Errorf("offer: vendor signature: %w", err)
	}
	if err := checkVersion(o.Body.Version); err != nil {
		return o, fmt.Errorf("offer: %w", err)
	}
	return o, nil
}

// OfferDraft is what a vendor fills in to answer an intent.
type OfferDraft struct {
	Price      uint64
	Currency   string // empty means the intent's currency
	Text       string
	Vendor     Vendor
	Created    time.Time
	ValidUntil time.Time
}

// NewOffer signs an offer to in with the vendor's identity and seals it to
// the intent's reply key. It returns the sealed wire message and the signed
// offer the vendor keeps.
func NewOffer(in *SignedIntent, vendor crypto.Identity, d OfferDraft) (*SealedOffer, *SignedOffer, error) {
	signed, err := signOffer(in, vendor, d)
	if err != nil {
		return nil, nil, fmt.Errorf("new offer: %w", err)
	}
	sealed, err := sealOffer(in, signed.Raw)
	if err != nil {
		return nil, nil, fmt.Errorf("new offer: %w", err)
	}
	return sealed, signed, nil
}

// signOffer makes the vendor-signed offer to in: the inside of a sealed
// offer, or a thread reply's revised offer.
func signOffer(in *SignedIntent, vendor crypto.Identity, d OfferDraft) (*SignedOffer, error) {
	if d.Currency == "" {
		d.Currency = in.Body.Want.Currency
	}
	th := in.TermsHash()
	body := Offer{
		Version:        Version,
		IntentID:       in.ID[:],
		TermsHash:      th[:],
		Price:          d.Price,
		Currency:       d.Currency,
		Text:           d.Text,
		Created:        d.Created.Unix(),
		ValidUntil:     d.ValidUntil.Unix(),
		Vendor:         d.Vendor,
		VendorKey:      vendor.Signing.Public(),
		VendorReplyKey: replyKeyOf(vendor.Reply.Public()),
	}
	if err := body.check(); err != nil {
		return nil, err
	}
	payload, err := marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	inner, err := crypto.Sign1(vendor.Signing, ContentOffer, payload)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return &SignedOffer{Raw: inner, Body: body}, nil
}

// OpenOffer opens a sealed offer addressed to in with the intent's reply key
// and checks, in order: the seal, the envelope, the vendor's signature, that
// it answers this intent, the terms commitment, the currency, the price
// ceiling and that it is still valid. The error names the first check that
// failed; when the offer could be opened, it is returned along with the
// error so the node can keep it as evidence.
func OpenOffer(s *SealedOffer, in *SignedIntent, reply crypto.ReplyKey, now time.Time) (*SignedOffer, error) {
	if s.IntentID != in.ID {
		return nil, fmt.Errorf("open offer %s: %w: sealed for %s", s.ID.Short(), ErrWrongIntent, s.IntentID.Short())
	}
	inner, err := crypto.Open(reply, offerInfo(in.ID), s.protected, s.ciphertext)
	if err != nil {
		return nil, fmt.Errorf("open offer %s: %w", s.ID.Short(), err)
	}
	o, err := ParseOffer(inner)
	if err != nil {
		if o == nil {
			return nil, fmt.Errorf("open offer %s: %w: %w", s.ID.Short(), ErrOfferMalformed, err)
		}
		return o, fmt.Errorf("open offer %s: %w", s.ID.Short(), err)
	}
	if err := offerFits(o, in, now); err != nil {
		return o, fmt.Errorf("open offer %s: %w", s.ID.Short(), err)
	}
	return o, nil
}

// offerFits checks a signed offer against the intent it answers: the
// intent, the terms commitment, the currency, the ceiling and that it is
// still valid, in that order.
func offerFits(o *SignedOffer, in *SignedIntent, now time.Time) error {
	b := &o.Body
	if id, _ := idFromBytes(b.IntentID); id != in.ID {
		return fmt.Errorf("%w: signed for %s", ErrWrongIntent, id.Short())
	}
	if th := in.TermsHash(); string(b.TermsHash) != string(th[:]) {
		return ErrTermsMismatch
	}
	if b.Currency != in.Body.Want.Currency {
		return fmt.Errorf("%w: %s, the intent asks for %s", ErrCurrency, b.Currency, in.Body.Want.Currency)
	}
	if b.Price > in.Body.Want.MaxPrice {
		return fmt.Errorf("%w: %d > %d %s", ErrOverCeiling, b.Price, in.Body.Want.MaxPrice, b.Currency)
	}
	if !now.Before(o.ValidUntilAt()) {
		return fmt.Errorf("%w since %v", ErrOfferExpired, o.ValidUntilAt().UTC())
	}
	return nil
}

func offerInfo(intentID ID) []byte {
	return append([]byte(offerInfoDomain), intentID[:]...)
}
