package intent

import (
	"context"
	"errors"
	"fmt"

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

type sealedWire struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected sealedUnprotected
	Ciphertext  []byte
}

// sealedUnprotected is the unprotected header: the work nonce alone.
type sealedUnprotected struct {
	Nonce []byte `cbor:"-65537,keyasint"`
}

// sealedIDWire is the sealed offer with an empty unprotected header: the
// bytes the offer ID is the hash of.
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

// SealedOffer is an offer as relays see it: which intent it answers, and
// bytes only that intent's customer can open.
type SealedOffer struct {
	Raw        []byte
	ID         ID // the offer ID, named by an accept; leaves out the nonce
	IntentID   ID
	protected  []byte
	ciphertext []byte
	nonce      []byte
}

// ParseSealedOffer checks what a relay can check without a policy: size,
// shape, canonical encoding, content type and the ciphertext's bounds. Its
// work is checked by CheckWork.
func ParseSealedOffer(raw []byte) (*SealedOffer, error) {
	if len(raw) > MaxOfferSize {
		return nil, fmt.Errorf("sealed offer: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxOfferSize)
	}
	if len(raw) == 0 || raw[0] != tagEncrypt0 {
		return nil, fmt.Errorf("sealed offer: %w: does not start with COSE_Encrypt0 tag 16", ErrMalformed)
	}
	var w sealedWire
	if err := unmarshalCanonical(raw[1:], &w, "sealed offer"); err != nil {
		return nil, fmt.Errorf("sealed offer: %w", err)
	}
	var h sealedHeader
	if err := unmarshalCanonical(w.Protected, &h, "sealed offer header"); err != nil {
		return nil, fmt.Errorf("sealed offer: %w", err)
	}
	if h.ContentType != ContentSealedOffer {
		return nil, fmt.Errorf("sealed offer: %w: content type %q, want %q", ErrMalformed, h.ContentType, ContentSealedOffer)
	}
	id, ok := idFromBytes(h.IntentID)
	if !ok {
		return nil, fmt.Errorf("sealed offer: %w: intent id of %d bytes, want 32", ErrSchema, len(h.IntentID))
	}
	if len(w.Ciphertext) < minSealedCiphertext {
		return nil, fmt.Errorf("sealed offer: %w: ciphertext of %d bytes is shorter than any seal", ErrSchema, len(w.Ciphertext))
	}
	if len(w.Unprotected.Nonce) != NonceSize {
		return nil, fmt.Errorf("sealed offer: %w: work nonce of %d bytes, want %d", ErrSchema, len(w.Unprotected.Nonce), NonceSize)
	}
	s := &SealedOffer{Raw: raw, IntentID: id, protected: w.Protected, ciphertext: w.Ciphertext, nonce: w.Unprotected.Nonce}
	if s.ID, ok = s.offerID(); !ok {
		return nil, fmt.Errorf("sealed offer: %w: cannot encode its ID", ErrMalformed)
	}
	return s, nil
}

// offerID is the SHA-256 of the sealed offer with an empty unprotected
// header.
func (s *SealedOffer) offerID() (ID, bool) {
	b, err := marshal(sealedIDWire{Protected: s.protected, Ciphertext: s.ciphertext})
	if err != nil {
		return ID{}, false
	}
	return IDOf(append([]byte{tagEncrypt0}, b...)), true
}

// Work returns the leading zero bits of the offer's proof-of-work hash.
func (s *SealedOffer) Work() int {
	return leadingZeros(domainHash(offerPowDomain, s.ID[:], s.nonce))
}

// CheckWork reports, as ErrInsufficientWork, an offer whose work is below
// the network minimum of p. Every honest node agrees on it (Reject).
func (s *SealedOffer) CheckWork(p Policy) error {
	if got, want := s.Work(), p.OfferWork(); got < want {
		return fmt.Errorf("sealed offer %s: %w: %d bits, the network asks for %d", s.ID.Short(), ErrInsufficientWork, got, want)
	}
	return nil
}

// Mint finds a nonce that gives the offer bits of work and rewrites Raw
// with it. The ID does not change. It checks ctx every few milliseconds.
func (s *SealedOffer) Mint(ctx context.Context, bits int) error {
	buf := append(s.ID[:len(s.ID):len(s.ID)], make([]byte, NonceSize)...)
	if err := mint(ctx, offerPowDomain, buf, bits, nil); err != nil {
		return fmt.Errorf("sealed offer %s: %w", s.ID.Short(), err)
	}
	raw, err := encodeSealed(s.protected, buf[len(s.ID):], s.ciphertext)
	if err != nil {
		return fmt.Errorf("sealed offer %s: %w", s.ID.Short(), err)
	}
	s.Raw, s.nonce = raw, buf[len(s.ID):]
	return nil
}

func encodeSealed(protected, nonce, ciphertext []byte) ([]byte, error) {
	body, err := marshal(sealedWire{Protected: protected, Unprotected: sealedUnprotected{Nonce: nonce}, Ciphertext: ciphertext})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	raw := append([]byte{tagEncrypt0}, body...)
	if len(raw) > MaxOfferSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxOfferSize)
	}
	return raw, nil
}

// sealOffer seals inner to in's reply key, with a zero nonce: no work yet.
func sealOffer(in *SignedIntent, inner []byte) (*SealedOffer, error) {
	protected, err := marshal(sealedHeader{ContentType: ContentSealedOffer, IntentID: in.ID[:]})
	if err != nil {
		return nil, fmt.Errorf("seal: encode header: %w", err)
	}
	ct, err := crypto.Seal(in.Body.ReplyKey.public(), offerInfo(in.ID), protected, inner)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	nonce := make([]byte, NonceSize)
	raw, err := encodeSealed(protected, nonce, ct)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	s := &SealedOffer{Raw: raw, IntentID: in.ID, protected: protected, ciphertext: ct, nonce: nonce}
	var ok bool
	if s.ID, ok = s.offerID(); !ok {
		return nil, errors.New("seal: cannot encode the offer ID")
	}
	return s, nil
}
