package intent

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

func TestOfferSealOpen(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	vendor := testVendor(t)
	sealed, mine, err := NewOffer(in, vendor, testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	relay, err := ParseSealedOffer(sealed.Raw)
	if err != nil {
		t.Fatalf("relay cannot parse sealed offer: %v", err)
	}
	if relay.IntentID != in.ID || relay.ID != sealed.ID {
		t.Fatalf("relay view wrong: intent %s id %s", relay.IntentID.Short(), relay.ID.Short())
	}
	if bytes.Contains(sealed.Raw, []byte("ThinkPad")) || bytes.Contains(sealed.Raw, []byte("Laptop Laden")) {
		t.Fatal("sealed offer leaks its content")
	}
	got, err := OpenOffer(relay, in, keys.Reply, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("OpenOffer: %v", err)
	}
	if !bytes.Equal(got.Raw, mine.Raw) || got.Body.Price != 99900 || got.Body.Currency != "EUR" {
		t.Fatalf("opened offer differs from what the vendor signed: %+v", got.Body)
	}
	if !bytes.Equal(got.Body.VendorKey, vendor.Signing.Public()) {
		t.Fatal("offer does not name its vendor key")
	}
}

func TestOfferHybridSuite(t *testing.T) {
	in, keys := newTestIntent(t, func(d *Draft) { d.Suite = crypto.SuiteXWing })
	sealed, _, err := NewOffer(in, testVendor(t), testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenOffer(sealed, in, keys.Reply, t0); err != nil {
		t.Fatal(err)
	}
}

// TestOpenOfferChecks has one case per check OpenOffer makes; each says
// which one failed.
func TestOpenOfferChecks(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	other, otherKeys := newTestIntent(t, nil)
	vendor := testVendor(t)
	otherVendor := testVendor(t)

	// sealInner seals an arbitrary inner message to in, as a hostile vendor could.
	sealInner := func(inner []byte) *SealedOffer {
		s, err := sealOffer(in, inner)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signBody := func(mut func(*Offer), key crypto.SigningKey) []byte {
		_, good, err := NewOffer(in, vendor, testOfferDraft())
		if err != nil {
			t.Fatal(err)
		}
		b := good.Body
		mut(&b)
		p, err := marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return signPayload(t, p, key, ContentOffer)
	}
	good, _, _ := NewOffer(in, vendor, testOfferDraft())
	cases := []struct {
		name   string
		sealed func() *SealedOffer
		intent *SignedIntent
		reply  crypto.ReplyKey
		now    time.Time
		want   error
	}{
		{"addressed to another intent", func() *SealedOffer { return good }, other, otherKeys.Reply, t0, ErrWrongIntent},
		{"wrong reply key", func() *SealedOffer { return good }, in, otherKeys.Reply, t0, ErrSealed},
		{"inner is not an offer", func() *SealedOffer { return sealInner([]byte("not cose")) }, in, keys.Reply, t0, ErrOfferMalformed},
		{"bad vendor signature", func() *SealedOffer {
			return sealInner(signBody(func(*Offer) {}, otherVendor.Signing))
		}, in, keys.Reply, t0, ErrBadSignature},
		{"signed for another intent", func() *SealedOffer {
			return sealInner(signBody(func(o *Offer) { o.IntentID = other.ID[:] }, vendor.Signing))
		}, in, keys.Reply, t0, ErrWrongIntent},
		{"terms commitment differs", func() *SealedOffer {
			return sealInner(signBody(func(o *Offer) { o.TermsHash = make([]byte, 32) }, vendor.Signing))
		}, in, keys.Reply, t0, ErrTermsMismatch},
		{"other currency", func() *SealedOffer {
			return sealInner(signBody(func(o *Offer) { o.Currency = "USD" }, vendor.Signing))
		}, in, keys.Reply, t0, ErrCurrency},
		{"over the ceiling", func() *SealedOffer {
			return sealInner(signBody(func(o *Offer) { o.Price = in.Body.Want.MaxPrice + 1 }, vendor.Signing))
		}, in, keys.Reply, t0, ErrOverCeiling},
		{"offer lapsed", func() *SealedOffer { return good }, in, keys.Reply, t0.Add(49 * time.Hour), ErrOfferExpired},
		{"vendor key of small order, signature forged for it", func() *SealedOffer {
			identity := append([]byte{1}, make([]byte, 31)...)
			raw := signBody(func(o *Offer) { o.VendorKey = identity }, vendor.Signing)
			// R = identity, S = 0 verifies under the identity key for every
			// message with plain Ed25519.
			copy(raw[len(raw)-64:], append(bytes.Clone(identity), make([]byte, 32)...))
			return sealInner(raw)
		}, in, keys.Reply, t0, ErrBadKey},
		{"vendor reply key all zero", func() *SealedOffer {
			return sealInner(signBody(func(o *Offer) { o.VendorReplyKey.Key = make([]byte, 32) }, vendor.Signing))
		}, in, keys.Reply, t0, ErrBadKey},
		{"offer schema", func() *SealedOffer {
			return sealInner(signBody(func(o *Offer) { o.Vendor.Name = "" }, vendor.Signing))
		}, in, keys.Reply, t0, ErrSchema},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenOffer(c.sealed(), c.intent, c.reply, c.now)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestOpenOfferKeepsEvidence(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	d := testOfferDraft()
	d.Price = in.Body.Want.MaxPrice * 2
	// NewOffer does not police the ceiling (the vendor's node may, the
	// customer's must), so a greedy offer can be sealed.
	sealed, _, err := NewOffer(in, testVendor(t), d)
	if err != nil {
		t.Fatal(err)
	}
	o, err := OpenOffer(sealed, in, keys.Reply, t0)
	if !errors.Is(err, ErrOverCeiling) {
		t.Fatalf("got %v, want ErrOverCeiling", err)
	}
	if o == nil || o.Body.Price != d.Price {
		t.Fatal("refused offer is not returned as evidence")
	}
}

func TestParseSealedOfferRules(t *testing.T) {
	in, _ := newTestIntent(t, nil)
	good, _, _ := NewOffer(in, testVendor(t), testOfferDraft())
	nonce, err := marshal(sealedUnprotected{Nonce: make([]byte, NonceSize)})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(w sealedWire) []byte {
		w.Unprotected = nonce
		b, err := marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte{tagEncrypt0}, b...)
	}
	header := func(ct string, id []byte) []byte {
		b, _ := marshal(sealedHeader{ContentType: ct, IntentID: id})
		return b
	}
	ct := make([]byte, 100)
	cases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"too large", append(bytes.Clone(good.Raw), make([]byte, MaxOfferSize)...), ErrTooLarge},
		{"no tag", good.Raw[1:], ErrMalformed},
		{"trailing byte", append(bytes.Clone(good.Raw), 0), ErrMalformed},
		{"wrong content type", encode(sealedWire{Protected: header("intentcast/intent", in.ID[:]), Ciphertext: ct}), ErrMalformed},
		{"short intent id", encode(sealedWire{Protected: header(ContentSealedOffer, in.ID[:31]), Ciphertext: ct}), ErrSchema},
		{"short ciphertext", encode(sealedWire{Protected: header(ContentSealedOffer, in.ID[:]), Ciphertext: ct[:minSealedCiphertext-1]}), ErrSchema},
		{"header not CBOR", encode(sealedWire{Protected: []byte{0xff}, Ciphertext: ct}), ErrMalformed},
		{"unprotected not empty", append([]byte{tagEncrypt0, 0x83, 0x40, 0xa1, 0x01, 0x01}, 0x40), ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSealedOffer(c.raw); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestSealedOfferWork: the work covers the offer ID (so no other content),
// re-minting does not change the ID, and a relay refuses work below the
// network's minimum.
func TestSealedOfferWork(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	sealed, _, err := NewOffer(in, testVendor(t), testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	// One bit more than the zero nonce happens to give.
	bits := sealed.Work() + 1
	policy := Policy{MinOfferWork: bits}
	id := sealed.ID
	if err := sealed.CheckWork(policy); !errors.Is(err, ErrInsufficientWork) {
		t.Fatalf("unminted offer: %v, want ErrInsufficientWork", err)
	}
	if err := sealed.Mint(t.Context(), bits); err != nil {
		t.Fatal(err)
	}
	relay, err := ParseSealedOffer(sealed.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if relay.ID != id || relay.Work() < bits || relay.CheckWork(policy) != nil {
		t.Fatalf("minted offer: id %s (was %s), %d bits", relay.ID.Short(), id.Short(), relay.Work())
	}
	if _, err := OpenOffer(relay, in, keys.Reply, t0.Add(time.Hour)); err != nil {
		t.Fatalf("a minted offer no longer opens: %v", err)
	}
	// The same nonce on other ciphertext: the work does not carry over.
	forged := bytes.Clone(sealed.Raw)
	forged[len(forged)-1] ^= 0x01
	other, err := ParseSealedOffer(forged)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID == id || other.CheckWork(Policy{MinOfferWork: 30}) == nil {
		t.Fatal("changed ciphertext kept the ID or met 30 bits of work")
	}
	if (Policy{MinOfferWork: NoWork}).OfferWork() != 0 || (Policy{}).OfferWork() != DefaultOfferWork {
		t.Fatal("OfferWork defaults wrong")
	}
}
