package intent

import (
	"errors"
	"fmt"
	"time"
)

// MaxDealRecordSize bounds a deal record: its three parts at their own
// bounds. (The vendor-signed offer travels inside a sealed offer, so it is
// smaller than MaxOfferSize by at least the seal; that slack covers the
// record's own few bytes of framing.)
const MaxDealRecordSize = MaxIntentSize + MaxOfferSize + MaxAcceptSize

// ErrNotBound is why a deal record fails a binding check: its parts are
// each well signed, but do not belong to one deal.
var ErrNotBound = errors.New("the parts of the deal record do not belong together")

// dealRecordWire is a deal record as a file holds it: the three signed
// messages, byte for byte as they were signed. Nothing else is needed to
// check it, and nothing in it names the customer: the intent's keys were
// made for that intent alone, and the accept's details stay sealed to the
// vendor.
type dealRecordWire struct {
	Version uint   `cbor:"0,keyasint"`
	Intent  []byte `cbor:"1,keyasint"` // the signed intent (COSE_Sign1, content type intentcast/intent)
	Offer   []byte `cbor:"2,keyasint"` // the vendor-signed offer (COSE_Sign1, intentcast/offer)
	Accept  []byte `cbor:"3,keyasint"` // the signed accept (COSE_Sign1, intentcast/accept)
}

// DealRecord is a deal anyone can check offline: the customer's intent, the
// vendor's signed offer to it and the customer's accept of exactly that
// offer. Both sides of a deal build byte-identical records.
type DealRecord struct {
	Raw    []byte // the record's canonical encoding, as exported
	ID     ID     // SHA-256 of Raw
	Intent *SignedIntent
	Offer  *SignedOffer
	Accept *SignedAccept
}

// DealCheck names one check of a deal record. The names are stable: they
// are what a verifier prints, and docs/PROTOCOL.md lists them.
type DealCheck string

// The checks of a deal record, in the order VerifyDealRecord runs them.
const (
	CheckRecord          DealCheck = "record"           // size, canonical CBOR, version 1
	CheckIntent          DealCheck = "intent"           // the intent parses and keeps the lifetime bound
	CheckIntentSignature DealCheck = "intent-signature" // signed by its own key (key 8)
	CheckIntentWork      DealCheck = "intent-work"      // its hash carries the work it commits to
	CheckOffer           DealCheck = "offer"            // the offer parses
	CheckOfferSignature  DealCheck = "offer-signature"  // signed by the vendor key it names (key 9)
	CheckOfferIntent     DealCheck = "offer-intent"     // it answers this intent
	CheckOfferTerms      DealCheck = "offer-terms"      // it commits to this intent's terms
	CheckOfferCurrency   DealCheck = "offer-currency"   // in the intent's currency
	CheckOfferPrice      DealCheck = "offer-price"      // at most the intent's ceiling
	CheckAccept          DealCheck = "accept"           // the accept parses
	CheckAcceptIntent    DealCheck = "accept-intent"    // it names this intent
	CheckAcceptSignature DealCheck = "accept-signature" // signed by the intent's key
	CheckAcceptOffer     DealCheck = "accept-offer"     // it commits to this offer's hash
	CheckAcceptTime      DealCheck = "accept-time"      // made while intent and offer were open, not in the future
)

// DealChecks lists every check in the order they run.
var DealChecks = []DealCheck{
	CheckRecord, CheckIntent, CheckIntentSignature, CheckIntentWork,
	CheckOffer, CheckOfferSignature, CheckOfferIntent, CheckOfferTerms, CheckOfferCurrency, CheckOfferPrice,
	CheckAccept, CheckAcceptIntent, CheckAcceptSignature, CheckAcceptOffer, CheckAcceptTime,
}

// DealError is the first check a deal record failed.
type DealError struct {
	Check DealCheck
	Err   error
}

func (e *DealError) Error() string {
	return fmt.Sprintf("deal record: check %s failed: %v", e.Check, e.Err)
}
func (e *DealError) Unwrap() error { return e.Err }

func dealFail(c DealCheck, err error) error { return &DealError{Check: c, Err: err} }

// NewDealRecord builds the record of a deal from its three signed messages
// and verifies it, so that nothing is exported that a verifier would refuse.
func NewDealRecord(intentRaw, offerInner, acceptRaw []byte, now time.Time) (*DealRecord, error) {
	raw, err := marshal(dealRecordWire{Version: Version, Intent: intentRaw, Offer: offerInner, Accept: acceptRaw})
	if err != nil {
		return nil, fmt.Errorf("new deal record: encode: %w", err)
	}
	return VerifyDealRecord(raw, now)
}

// VerifyDealRecord checks every signature and binding of a deal record,
// with nothing but the record and the time: no network, no store. On
// failure the error is a *DealError naming the first check that failed.
//
// What it does not check is what only held at the time: proof of work
// against a network's minimum, and the message windows, which a record
// outlives by design. now only refuses an accept from the future.
func VerifyDealRecord(raw []byte, now time.Time) (*DealRecord, error) {
	if len(raw) > MaxDealRecordSize {
		return nil, dealFail(CheckRecord, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxDealRecordSize))
	}
	var w dealRecordWire
	if err := unmarshalCanonical(raw, &w, "deal record"); err != nil {
		return nil, dealFail(CheckRecord, err)
	}
	if w.Version != Version {
		return nil, dealFail(CheckRecord, fmt.Errorf("%w: record version %d, this node reads %d", ErrVersion, w.Version, Version))
	}
	d := &DealRecord{Raw: raw, ID: IDOf(raw)}
	var err error
	if d.Intent, err = verifyDealIntent(w.Intent); err != nil {
		return nil, err
	}
	if d.Offer, err = verifyDealOffer(w.Offer, d.Intent); err != nil {
		return nil, err
	}
	if d.Accept, err = verifyDealAccept(w.Accept, d.Intent, d.Offer, now); err != nil {
		return nil, err
	}
	return d, nil
}

func verifyDealIntent(raw []byte) (*SignedIntent, error) {
	in, err := ParseIntent(raw)
	if err != nil {
		return nil, dealFail(CheckIntent, err)
	}
	b := &in.Body
	if life := b.Expires - b.Created; life > int64(MaxLifetime/time.Second) {
		return nil, dealFail(CheckIntent, fmt.Errorf("%w: %d s, at most %v", ErrLifetime, life, MaxLifetime))
	}
	if err := in.msg.Verify(b.SigningKey); err != nil {
		return nil, dealFail(CheckIntentSignature, err)
	}
	if !CheckWork(in.msg.Payload, int(b.Work)) {
		return nil, dealFail(CheckIntentWork, fmt.Errorf("%w: hash has fewer than the %d bits it commits to", ErrInsufficientWork, b.Work))
	}
	return in, nil
}

func verifyDealOffer(raw []byte, in *SignedIntent) (*SignedOffer, error) {
	if len(raw) > MaxOfferSize {
		return nil, dealFail(CheckOffer, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxOfferSize))
	}
	o, err := ParseOffer(raw)
	switch {
	case err != nil && errors.Is(err, ErrBadSignature):
		return nil, dealFail(CheckOfferSignature, err)
	case err != nil:
		return nil, dealFail(CheckOffer, err)
	}
	b := &o.Body
	if id, _ := idFromBytes(b.IntentID); id != in.ID {
		return nil, dealFail(CheckOfferIntent, fmt.Errorf("%w: offer answers intent %s, the record holds %s", ErrWrongIntent, id.Short(), in.ID.Short()))
	}
	if th := in.TermsHash(); string(b.TermsHash) != string(th[:]) {
		return nil, dealFail(CheckOfferTerms, ErrTermsMismatch)
	}
	if b.Currency != in.Body.Want.Currency {
		return nil, dealFail(CheckOfferCurrency, fmt.Errorf("%w: %s, the intent asks for %s", ErrCurrency, b.Currency, in.Body.Want.Currency))
	}
	if b.Price > in.Body.Want.MaxPrice {
		return nil, dealFail(CheckOfferPrice, fmt.Errorf("%w: %d > %d %s", ErrOverCeiling, b.Price, in.Body.Want.MaxPrice, b.Currency))
	}
	return o, nil
}

func verifyDealAccept(raw []byte, in *SignedIntent, o *SignedOffer, now time.Time) (*SignedAccept, error) {
	a, err := ParseAccept(raw)
	if err != nil {
		return nil, dealFail(CheckAccept, err)
	}
	if a.IntentID != in.ID {
		return nil, dealFail(CheckAcceptIntent, fmt.Errorf("%w: accept names intent %s, the record holds %s", ErrNotBound, a.IntentID.Short(), in.ID.Short()))
	}
	if err := a.msg.Verify(in.Body.SigningKey); err != nil {
		return nil, dealFail(CheckAcceptSignature, fmt.Errorf("not signed by the intent's key: %w", err))
	}
	if !a.Commits(o) {
		h := OfferHash(o.Raw)
		return nil, dealFail(CheckAcceptOffer, fmt.Errorf("%w: accept commits to offer hash %x, the record's offer hashes to %x", ErrNotBound, a.Body.OfferHash[:6], h[:6]))
	}
	// The customer's node signs the accept with its own clock, after the
	// intent it made and while the offer is valid; relays pass it until the
	// intent's expiry plus the skew.
	created, skew := a.Body.Created, int64(DefaultSkew/time.Second)
	switch {
	case created < in.Body.Created:
		return nil, dealFail(CheckAcceptTime, fmt.Errorf("%w: accepted at %v, before the intent was made (%v)", ErrNotBound, unixUTC(created), unixUTC(in.Body.Created)))
	case created >= o.Body.ValidUntil:
		return nil, dealFail(CheckAcceptTime, fmt.Errorf("%w: accepted at %v, the offer was valid until %v", ErrNotBound, unixUTC(created), unixUTC(o.Body.ValidUntil)))
	case created >= in.Body.Expires+skew:
		return nil, dealFail(CheckAcceptTime, fmt.Errorf("%w: accepted at %v, the intent expired at %v", ErrNotBound, unixUTC(created), unixUTC(in.Body.Expires)))
	case created > now.Unix()+skew:
		return nil, dealFail(CheckAcceptTime, fmt.Errorf("%w: accepted at %v, now is %v", ErrFromFuture, unixUTC(created), now.UTC()))
	}
	return a, nil
}

func unixUTC(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
