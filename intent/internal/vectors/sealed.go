package vectors

import (
	"bytes"
	"context"
	"fmt"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// Seal is everything a sealed offer vector was sealed from, for the vectors
// whose HPKE randomness is fixed: with the recipient's private key (the
// Keys) a second implementation can open them and seal them again, byte for
// byte.
type Seal struct {
	// Plaintext is the vendor-signed offer inside.
	Plaintext Hex `json:"plaintext"`
	Info      Hex `json:"info"`
	AAD       Hex `json:"aad"` // the protected header
	// IKME is the encapsulation's randomness: for DHKEM(X25519),
	// DeriveKeyPair(IKME) is the ephemeral key (SKE); for X-Wing, the 64-byte
	// eseed of EncapsulateDerand.
	IKME Hex `json:"ikm_e"`
	SKE  Hex `json:"sk_e,omitempty"`
	Enc  Hex `json:"enc"` // the encapsulated key, the ciphertext's first bytes
}

// sealedOffers adds the sealed offers sealed with fixed randomness: valid
// ones to each suite, and ones whose signed offer inside breaks a rule only
// the customer's node can see.
func (g *generator) sealedOffers(in *intent.SignedIntent) error {
	xv := g.set.Vector("intent-xwing")
	if xv == nil {
		return fmt.Errorf("no intent-xwing vector")
	}
	xin, err := intent.ParseIntent(xv.Wire)
	if err != nil {
		return fmt.Errorf("intent-xwing does not parse: %w", err)
	}
	valid := g.offerBody(in)
	xbody := g.offerBody(xin)
	giftWrap := append([]byte{0x69}, "gift-wrap"...)
	cases := []struct {
		name, desc, verdict, code string
		in                        *intent.SignedIntent
		against                   string
		inner                     func() ([]byte, error)
	}{
		{name: "sealed-offer-fixed-ephemeral", verdict: Valid, in: in, against: "intent",
			desc: "The signed offer of sealed-offer (opened_offer), sealed to the valid intent's X25519 reply key with fixed randomness: " +
				"seal it again from the inputs below and the bytes are these.",
			inner: func() ([]byte, error) { return bytes.Clone(g.set.Offer.Inner), nil }},
		{name: "sealed-offer-xwing", verdict: Valid, in: xin, against: "intent-xwing",
			desc: "A valid offer to intent-xwing, sealed to its X-Wing reply key (suite 0x647a) with fixed randomness. " +
				"It opens with intent_reply_xwing_seed; the vendor's own reply key is its X25519 one.",
			inner: func() ([]byte, error) { return g.signOffer(xbody) }},
		{name: "sealed-offer-small-order-vendor-key", verdict: Reject, code: "bad-key", in: in, against: "intent",
			desc: "Opens to an offer whose vendor key (key 9) is the identity point (01 00 .. 00), signed R = identity, S = 0, " +
				"which verifies for every message under that key. A relay passes it (it cannot open it); the customer's node refuses it.",
			inner: func() ([]byte, error) {
				b := valid
				b.VendorKey = identityPoint()
				raw, err := g.signOffer(b)
				if err == nil {
					copy(raw[len(raw)-64:], append(identityPoint(), make([]byte, 32)...))
				}
				return raw, err
			}},
		{name: "sealed-offer-non-canonical-vendor-key", verdict: Reject, code: "bad-key", in: in, against: "intent",
			desc: "Opens to an offer whose vendor key encodes y = 3 + p (f0 ff .. ff 7f), which RFC 8032 decoding refuses; " +
				"signed with the vendor's real key (the key check comes first).",
			inner: func() ([]byte, error) {
				b := valid
				b.VendorKey = nonCanonicalY3()
				return g.signOffer(b)
			}},
		{name: "sealed-offer-zero-vendor-reply-key", verdict: Reject, code: "bad-key", in: in, against: "intent",
			desc: "Opens to an offer, signed by the vendor, whose X25519 vendor reply key (key 10) is 32 zero bytes: no accept's details could be sealed to it.",
			inner: func() ([]byte, error) {
				b := valid
				b.VendorReplyKey = intent.ReplyKey{Suite: uint16(crypto.SuiteX25519), Key: make([]byte, 32)}
				return g.signOffer(b)
			}},
		{name: "sealed-offer-version-2", verdict: Ignore, code: "version", in: in, against: "intent",
			desc: "Opens to a version 2 offer with a key 11 (the text \"gift-wrap\") version 1 does not define, signed by the vendor; " +
				"everything version 1 defines is valid. Not understood, so not shown, and nobody is blamed.",
			inner: func() ([]byte, error) {
				b := valid
				b.Version = 2
				return signWithExtra(g.vendorKey, intent.ContentOffer, b, entry{11, giftWrap})
			}},
	}
	for _, c := range cases {
		inner, err := c.inner()
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		raw, seal, err := g.sealFixed(c.in, inner, c.name)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		g.add(Vec{Name: c.name, Kind: KindOffer, Intent: c.against, Verdict: c.verdict, Error: c.code,
			Description: c.desc, Wire: raw, Seal: seal})
	}

	sealed := g.set.Vector("sealed-offer")
	g.add(Vec{Name: "sealed-offer-on-intents-topic", Kind: KindOffer, Intent: "intent", Verdict: Reject, Error: "wrong-topic",
		Frozen: true, Wire: sealed.Wire, Topic: intent.IntentTopic("electronics"),
		Description: "sealed-offer received on the intents topic of its category: sealed offers travel on offers topics."})

	accept2, err := signWithExtra(g.intentKey, intent.ContentAccept, intent.Accept{Version: 2, IntentID: in.ID[:],
		OfferID: g.offerID[:], Created: acceptCreated.Unix(), OfferHash: g.offerHash[:]}, entry{6, giftWrap})
	if err != nil {
		return err
	}
	g.add(Vec{Name: "accept-version-2", Kind: KindAccept, Intent: "intent", Verdict: Ignore, Error: "version", Wire: accept2,
		Description: "A version 2 accept of sealed-offer, without details, with a key 6 version 1 does not define, signed with the intent's key: ignored."})
	return nil
}

// offerBody is the valid offer's body, answering in.
func (g *generator) offerBody(in *intent.SignedIntent) intent.Offer {
	th := in.TermsHash()
	return intent.Offer{
		Version:        intent.Version,
		IntentID:       in.ID[:],
		TermsHash:      th[:],
		Price:          99900,
		Currency:       in.Body.Want.Currency,
		Text:           "ThinkPad X1 Carbon, 16 GB, ships tomorrow",
		Created:        offerCreated.Unix(),
		ValidUntil:     offerCreated.Unix() + 48*3600,
		Vendor:         intent.Vendor{Name: "Laptop Laden", URL: "https://laptops.example"},
		VendorKey:      g.vendorKey.Public(),
		VendorReplyKey: intent.ReplyKey{Suite: uint16(g.vendorReply.Suite()), Key: g.vendorReply.Public().Key},
	}
}

// signOffer signs body with the vendor's key.
func (g *generator) signOffer(body intent.Offer) ([]byte, error) {
	p, err := encode(body)
	if err != nil {
		return nil, err
	}
	return sign(g.vendorKey, intent.ContentOffer, p)
}

// signWithExtra encodes body, appends a pair version 1 does not define (a
// later version's new field) and signs it with k as content type ct.
func signWithExtra(k crypto.SigningKey, ct string, body any, extra entry) ([]byte, error) {
	p, err := encode(body)
	if err != nil {
		return nil, err
	}
	es, err := split(p)
	if err != nil {
		return nil, err
	}
	return sign(k, ct, join(append(es, extra)))
}

// sealFixed seals inner to in's reply key with the randomness named after
// the vector, and mints the network's offer work.
func (g *generator) sealFixed(in *intent.SignedIntent, inner []byte, name string) ([]byte, *Seal, error) {
	suite := crypto.Suite(in.Body.ReplyKey.Suite)
	ikmE := fixedKey(name)
	if suite == crypto.SuiteXWing {
		ikmE = append(ikmE, fixedKey(name+"/x25519")...)
	}
	protected, err := encode(struct {
		ContentType string `cbor:"3,keyasint"`
		IntentID    []byte `cbor:"4,keyasint"`
	}{intent.ContentSealedOffer, in.ID[:]})
	if err != nil {
		return nil, nil, err
	}
	info := append([]byte("intentcast/1/offer\x00"), in.ID[:]...)
	enc, ct, err := sealDerand(suite, in.Body.ReplyKey.Key, ikmE, info, protected, inner)
	if err != nil {
		return nil, nil, err
	}
	body, err := encode([]any{protected, map[int][]byte{-65537: make([]byte, intent.NonceSize)}, append(bytes.Clone(enc), ct...)})
	if err != nil {
		return nil, nil, err
	}
	s, err := intent.ParseSealedOffer(append([]byte{0xd0}, body...))
	if err != nil {
		return nil, nil, err
	}
	if err := s.Mint(context.Background(), minOfferWork); err != nil {
		return nil, nil, err
	}
	seal := &Seal{Plaintext: inner, Info: info, AAD: protected, IKME: ikmE, Enc: enc}
	if suite == crypto.SuiteX25519 {
		seal.SKE = derivedX25519(ikmE)
	}
	return s.Raw, seal, nil
}
