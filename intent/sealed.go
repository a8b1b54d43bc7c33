package intent

import (
	"context"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/intentcast/intentcast/crypto"
)

// A sealed offer travels as a COSE_Encrypt0-shaped message (CBOR tag 16):
//
//	16([protected: bstr .cbor {3: "intentcast/sealed-offer", 4: intent-id}, unprotected: {-65537: nonce}, ciphertext: bstr])
//
// The intent ID sits in the protected header's kid (label 4) because it names
// the key the offer is sealed to; relays use it to drop offers for intents
// they do not know. There is no alg label: the HPKE suite is fixed by the
// intent's reply key. The ciphertext is HPKE's encapsulated key followed by
// the AEAD output; the protected bytes are its associated data and the
// intent ID is bound into the HPKE info.
//
// The unprotected header holds only the proof-of-work nonce (a private-use
// label): relays cannot read an offer, so work is what makes junk cost its
// sender. The nonce is found after sealing and must stay out of what the
// AEAD authenticates; the work covers the offer ID, which covers protected
// header and ciphertext, so it cannot be moved to other content. The offer
// ID leaves the nonce out, so re-minting a seen offer makes no new offer.
const (
	ContentSealedOffer = "intentcast/sealed-offer"
	tagEncrypt0        = 0xd0 // CBOR tag 16, one byte
	tagSign1           = 0xd2 // CBOR tag 18, one byte

	minSealedCiphertext = 32 + 16 // X25519 encapsulated key + Poly1305 tag

	// offerPowDomain prefixes the proof-of-work hash of a sealed offer:
	// SHA-256(offerPowDomain || offer ID || nonce).
	offerPowDomain = "intentcast/1/offer-pow\x00"
)

// DefaultOfferWork is the default minimum work of a sealed offer, in
// leading zero bits: about 70 ms of one core on the reference machine
// (2^20 hashes at ~14.5 M hashes/s), so an honest vendor hardly notices it
// while 10,000 junk offers cost about 12 core-minutes (docs/PROTOCOL.md,
// Proof of work).
const DefaultOfferWork = 20

// sealedWire is the envelope of every sealed message (offers and thread
// messages): the unprotected header is decoded after the protected one,
// whose content type says which nonce label it must hold.
type sealedWire struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Ciphertext  []byte
}

// sealedUnprotected is a sealed offer's unprotected header: the work nonce
// alone.
type sealedUnprotected struct {
	Nonce []byte `cbor:"-65537,keyasint"`
}

// sealedIDWire is a sealed message with an empty unprotected header: the
// bytes its ID is the hash of.
type sealedIDWire struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected struct{}
	Ciphertext  []byte
}

type sealedHeader struct {
	ContentType string `cbor:"3,keyasint"`
	IntentID    []byte `cbor:"4,keyasint"`
}

// sealed is what offers and thread messages share as relays see them: which
// intent they concern, and bytes only one party can open.
type sealed struct {
	Raw        []byte
	ID         ID // names the message whatever its work nonce
	IntentID   ID
	protected  []byte
	ciphertext []byte
	nonce      []byte
}

// SealedOffer is an offer as relays see it: which intent it answers, and
// bytes only that intent's customer can open.
type SealedOffer struct {
	sealed
}

// ParseSealedOffer checks what a relay can check without a policy: size,
// shape, canonical encoding, content type and the ciphertext's bounds. Its
// work is checked by CheckWork.
func ParseSealedOffer(raw []byte) (*SealedOffer, error) {
	s, ct, err := parseSealed(raw, "sealed offer")
	if err != nil {
		return nil, err
	}
	if ct != ContentSealedOffer {
		return nil, fmt.Errorf("sealed offer: %w: content type %q, want %q", ErrMalformed, ct, ContentSealedOffer)
	}
	return &SealedOffer{*s}, nil
}

// parseSealed parses any sealed message (tag 16) up to its content type,
// then its unprotected header by the rules of that type. It returns the
// envelope and its content type.
func parseSealed(raw []byte, what string) (*sealed, string, error) {
	if len(raw) > MaxOfferSize {
		return nil, "", fmt.Errorf("%s: %w: %d bytes, at most %d", what, ErrTooLarge, len(raw), MaxOfferSize)
	}
	if len(raw) == 0 || raw[0] != tagEncrypt0 {
		return nil, "", fmt.Errorf("%s: %w: does not start with COSE_Encrypt0 tag 16", what, ErrMalformed)
	}
	var w sealedWire
	if err := unmarshalCanonical(raw[1:], &w, what); err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	var h sealedHeader
	if err := unmarshalCanonical(w.Protected, &h, what+" header"); err != nil {
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	var nonce []byte
	switch h.ContentType {
	case ContentSealedOffer:
		var u sealedUnprotected
		if err := unmarshalCanonical(w.Unprotected, &u, what+" unprotected header"); err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		nonce = u.Nonce
	case ContentSealedThread:
		var u threadUnprotected
		if err := unmarshalCanonical(w.Unprotected, &u, what+" unprotected header"); err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		nonce = u.Nonce
	default:
		return nil, "", fmt.Errorf("%s: %w: content type %q is not a sealed intentcast message", what, ErrMalformed, h.ContentType)
	}
	id, ok := idFromBytes(h.IntentID)
	if !ok {
		return nil, "", fmt.Errorf("%s: %w: intent id of %d bytes, want 32", what, ErrSchema, len(h.IntentID))
	}
	if len(w.Ciphertext) < minSealedCiphertext {
		return nil, "", fmt.Errorf("%s: %w: ciphertext of %d bytes is shorter than any seal", what, ErrSchema, len(w.Ciphertext))
	}
	if len(nonce) != NonceSize {
		return nil, "", fmt.Errorf("%s: %w: work nonce of %d bytes, want %d", what, ErrSchema, len(nonce), NonceSize)
	}
	s := &sealed{Raw: raw, IntentID: id, protected: w.Protected, ciphertext: w.Ciphertext, nonce: nonce}
	if s.ID, ok = s.sealedID(); !ok {
		return nil, "", fmt.Errorf("%s: %w: cannot encode its ID", what, ErrMalformed)
	}
	return s, h.ContentType, nil
}

// sealedID is the SHA-256 of the sealed message with an empty unprotected
// header.
func (s *sealed) sealedID() (ID, bool) {
	b, err := marshal(sealedIDWire{Protected: s.protected, Ciphertext: s.ciphertext})
	if err != nil {
		return ID{}, false
	}
	return IDOf(append([]byte{tagEncrypt0}, b...)), true
}

// Work returns the leading zero bits of the offer's proof-of-work hash.
func (s *SealedOffer) Work() int { return s.work(offerPowDomain) }

func (s *sealed) work(domain string) int {
	return leadingZeros(domainHash(domain, s.ID[:], s.nonce))
}

// CheckWork reports, as ErrInsufficientWork, an offer whose work is below
// the network minimum of p. Every honest node agrees on it (Reject).
func (s *SealedOffer) CheckWork(p Policy) error {
	return s.checkWork("sealed offer", offerPowDomain, p)
}

func (s *sealed) checkWork(what, domain string, p Policy) error {
	if got, want := s.work(domain), p.OfferWork(); got < want {
		return fmt.Errorf("%s %s: %w: %d bits, the network asks for %d", what, s.ID.Short(), ErrInsufficientWork, got, want)
	}
	return nil
}

// Mint finds a nonce that gives the offer bits of work and rewrites Raw
// with it. The ID does not change. It checks ctx every few milliseconds.
func (s *SealedOffer) Mint(ctx context.Context, bits int) error {
	return s.mint(ctx, offerPowDomain, bits, func(n []byte) any { return sealedUnprotected{Nonce: n} })
}

// mint finds the nonce; header makes the unprotected header that holds it.
func (s *sealed) mint(ctx context.Context, domain string, bits int, header func([]byte) any) error {
	buf := append(s.ID[:len(s.ID):len(s.ID)], make([]byte, NonceSize)...)
	if err := mint(ctx, domain, buf, bits, nil); err != nil {
		return fmt.Errorf("sealed %s: %w", s.ID.Short(), err)
	}
	nonce := buf[len(s.ID):]
	raw, err := encodeSealed(s.protected, header(nonce), s.ciphertext)
	if err != nil {
		return fmt.Errorf("sealed %s: %w", s.ID.Short(), err)
	}
	s.Raw, s.nonce = raw, nonce
	return nil
}

func encodeSealed(protected []byte, unprotected any, ciphertext []byte) ([]byte, error) {
	u, err := marshal(unprotected)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	body, err := marshal(sealedWire{Protected: protected, Unprotected: u, Ciphertext: ciphertext})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	raw := append([]byte{tagEncrypt0}, body...)
	if len(raw) > MaxOfferSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxOfferSize)
	}
	return raw, nil
}

// sealTo seals plaintext to pub under a protected header of contentType
// naming intentID, with a zero nonce in the header unprotected makes: no
// work yet.
func sealTo(pub crypto.PublicReplyKey, contentType string, intentID ID, info, plaintext []byte, unprotected func([]byte) any) (*sealed, error) {
	protected, err := marshal(sealedHeader{ContentType: contentType, IntentID: intentID[:]})
	if err != nil {
		return nil, fmt.Errorf("seal: encode header: %w", err)
	}
	ct, err := crypto.Seal(pub, info, protected, plaintext)
	if err != nil {
		// The reply key passed its checks when the intent was parsed, so
		// the key the customer's node made is what fails here: the
		// intent's fault, not the vendor's.
		return nil, fmt.Errorf("seal to the intent's reply key: %w: %w", ErrBadKey, err)
	}
	nonce := make([]byte, NonceSize)
	raw, err := encodeSealed(protected, unprotected(nonce), ct)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	s := &sealed{Raw: raw, IntentID: intentID, protected: protected, ciphertext: ct, nonce: nonce}
	var ok bool
	if s.ID, ok = s.sealedID(); !ok {
		return nil, errors.New("seal: cannot encode the message ID")
	}
	return s, nil
}

// sealOffer seals inner to in's reply key, with a zero nonce: no work yet.
func sealOffer(in *SignedIntent, inner []byte) (*SealedOffer, error) {
	s, err := sealTo(in.Body.ReplyKey.public(), ContentSealedOffer, in.ID, offerInfo(in.ID), inner,
		func(n []byte) any { return sealedUnprotected{Nonce: n} })
	if err != nil {
		return nil, err
	}
	return &SealedOffer{*s}, nil
}
