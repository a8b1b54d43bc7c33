package intent

import (
	"fmt"

	"github.com/intentcast/intentcast/crypto"
)

// A sealed offer travels as a COSE_Encrypt0-shaped message (CBOR tag 16):
//
//	16([protected: bstr .cbor {3: "intentcast/sealed-offer", 4: intent-id}, unprotected: {}, ciphertext: bstr])
//
// The intent ID sits in the protected header's kid (label 4) because it names
// the key the offer is sealed to; relays use it to drop offers for intents
// they do not know. There is no alg label: the HPKE suite is fixed by the
// intent's reply key. The ciphertext is HPKE's encapsulated key followed by
// the AEAD output; the protected bytes are its associated data and the
// intent ID is bound into the HPKE info.
const (
	ContentSealedOffer = "intentcast/sealed-offer"
	tagEncrypt0        = 0xd0 // CBOR tag 16, one byte
	tagSign1           = 0xd2 // CBOR tag 18, one byte

	minSealedCiphertext = 32 + 16 // X25519 encapsulated key + Poly1305 tag
)

type sealedWire struct {
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
	ID         ID // the offer ID, named by an accept
	IntentID   ID
	protected  []byte
	ciphertext []byte
}

// ParseSealedOffer checks what a relay can check: size, shape, canonical
// encoding, content type and the ciphertext's bounds.
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
	return &SealedOffer{Raw: raw, ID: IDOf(raw), IntentID: id, protected: w.Protected, ciphertext: w.Ciphertext}, nil
}

func sealOffer(in *SignedIntent, inner []byte) (*SealedOffer, error) {
	protected, err := marshal(sealedHeader{ContentType: ContentSealedOffer, IntentID: in.ID[:]})
	if err != nil {
		return nil, fmt.Errorf("seal: encode header: %w", err)
	}
	ct, err := crypto.Seal(in.Body.ReplyKey.public(), offerInfo(in.ID), protected, inner)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	body, err := marshal(sealedWire{Protected: protected, Ciphertext: ct})
	if err != nil {
		return nil, fmt.Errorf("seal: encode: %w", err)
	}
	raw := append([]byte{tagEncrypt0}, body...)
	if len(raw) > MaxOfferSize {
		return nil, fmt.Errorf("seal: %w: %d bytes, at most %d", ErrTooLarge, len(raw), MaxOfferSize)
	}
	return &SealedOffer{Raw: raw, ID: IDOf(raw), IntentID: in.ID, protected: protected, ciphertext: ct}, nil
}
