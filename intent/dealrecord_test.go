package intent

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// testDeal is a real deal: an intent, a vendor's offer opened by the
// customer, and the customer's accept of it.
type testDeal struct {
	in     *SignedIntent
	keys   Keys
	vendor crypto.Identity
	sealed *SealedOffer
	offer  *SignedOffer
	accept *SignedAccept
}

func newTestDeal(t testing.TB) testDeal {
	t.Helper()
	d := testDeal{vendor: testVendor(t)}
	d.in, d.keys = newTestIntent(t, nil)
	var err error
	if d.sealed, d.offer, err = NewOffer(d.in, d.vendor, testOfferDraft()); err != nil {
		t.Fatal(err)
	}
	if d.accept, err = NewAccept(d.in, d.keys, d.sealed.ID, d.offer, []byte("Jane, Hauptstr. 1"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return d
}

func encodeRecord(t *testing.T, w dealRecordWire) []byte {
	t.Helper()
	raw, err := marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signedOffer signs an offer body as given, bypassing NewOffer's checks.
func signedOffer(t *testing.T, b Offer, k crypto.SigningKey) []byte {
	t.Helper()
	p, err := marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return signPayload(t, p, k, ContentOffer)
}

func TestDealRecordVerifies(t *testing.T) {
	d := newTestDeal(t)
	// The customer holds the offer it opened, the vendor the one it made:
	// both build the same record from them.
	opened, err := OpenOffer(d.sealed, d.in, d.keys.Reply, t0)
	if err != nil {
		t.Fatal(err)
	}
	customer, err := NewDealRecord(d.in.Raw, opened.Raw, d.accept.Raw, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("customer's record: %v", err)
	}
	vendor, err := NewDealRecord(d.in.Raw, d.offer.Raw, d.accept.Raw, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("vendor's record: %v", err)
	}
	if !bytes.Equal(customer.Raw, vendor.Raw) {
		t.Fatal("customer and vendor build different records of one deal")
	}
	// Long after every message expired the record still verifies.
	got, err := VerifyDealRecord(vendor.Raw, t0.Add(5*365*24*time.Hour))
	if err != nil {
		t.Fatalf("a year-old record: %v", err)
	}
	if got.Intent.ID != d.in.ID || got.Accept.OfferID != d.sealed.ID || !bytes.Equal(got.Offer.Body.VendorKey, d.vendor.Signing.Public()) {
		t.Fatal("the verified record holds other parts than the deal's")
	}
	if bytes.Contains(got.Raw, []byte("Jane")) {
		t.Fatal("the record shows the sealed accept details")
	}
}

func TestDealRecordForgeries(t *testing.T) {
	d := newTestDeal(t)
	now := t0.Add(2 * time.Hour)
	good := dealRecordWire{Version: Version, Intent: d.in.Raw, Offer: d.offer.Raw, Accept: d.accept.Raw}

	other, otherKeys := newTestIntent(t, nil)
	otherVendor := testVendor(t)
	// A second vendor's offer to the same intent: a customer who accepted
	// the first must not be able to claim a deal with the second.
	_, rival, err := NewOffer(d.in, otherVendor, testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	// The same vendor's second, dearer offer to the same intent.
	dearer := testOfferDraft()
	dearer.Price = 110000
	_, second, err := NewOffer(d.in, d.vendor, dearer)
	if err != nil {
		t.Fatal(err)
	}
	_, offerToOther, err := NewOffer(other, d.vendor, testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	acceptOfOther, err := NewAccept(other, otherKeys, d.sealed.ID, d.offer, nil, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, err := NewAccept(d.in, otherKeys, d.sealed.ID, d.offer, nil, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	late, err := NewAccept(d.in, d.keys, d.sealed.ID, d.offer, nil, t0.Add(49*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	future, err := NewAccept(d.in, d.keys, d.sealed.ID, d.offer, nil, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	offerBody := func(f func(*Offer)) []byte {
		b := d.offer.Body
		f(&b)
		return signedOffer(t, b, d.vendor.Signing)
	}
	flip := func(b []byte) []byte {
		b = bytes.Clone(b)
		b[len(b)-1] ^= 1
		return b
	}
	unworked := func() []byte {
		b := d.in.Body
		b.Work = 24 // committed but never minted: 2^-24 that the hash meets it by chance
		p, err := marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return signPayload(t, p, d.keys.Signing, ContentIntent)
	}

	cases := []struct {
		name  string
		raw   func() []byte
		check DealCheck
		is    error
	}{
		{"trailing byte", func() []byte { return append(encodeRecord(t, good), 0) }, CheckRecord, ErrMalformed},
		{"version 2", func() []byte { w := good; w.Version = 2; return encodeRecord(t, w) }, CheckRecord, ErrVersion},
		{"too large", func() []byte { return make([]byte, MaxDealRecordSize+1) }, CheckRecord, ErrTooLarge},
		{"not an intent", func() []byte { w := good; w.Intent = d.accept.Raw; return encodeRecord(t, w) }, CheckIntent, ErrMalformed},
		{"intent signature", func() []byte { w := good; w.Intent = flip(d.in.Raw); return encodeRecord(t, w) }, CheckIntentSignature, ErrBadSignature},
		{"intent work", func() []byte { w := good; w.Intent = unworked(); return encodeRecord(t, w) }, CheckIntentWork, ErrInsufficientWork},
		{"not an offer", func() []byte { w := good; w.Offer = d.in.Raw; return encodeRecord(t, w) }, CheckOffer, ErrMalformed},
		{"offer signature", func() []byte { w := good; w.Offer = flip(d.offer.Raw); return encodeRecord(t, w) }, CheckOfferSignature, ErrBadSignature},
		{"offer signed by another key than the vendor key it names", func() []byte {
			w := good
			w.Offer = signedOffer(t, d.offer.Body, otherVendor.Signing)
			return encodeRecord(t, w)
		}, CheckOfferSignature, ErrBadSignature},
		{"offer to another intent", func() []byte { w := good; w.Offer = offerToOther.Raw; return encodeRecord(t, w) }, CheckOfferIntent, ErrWrongIntent},
		{"offer to other terms", func() []byte {
			w := good
			w.Offer = offerBody(func(b *Offer) { b.TermsHash = make([]byte, 32) })
			return encodeRecord(t, w)
		}, CheckOfferTerms, ErrTermsMismatch},
		{"offer currency", func() []byte {
			w := good
			w.Offer = offerBody(func(b *Offer) { b.Currency = "USD" })
			return encodeRecord(t, w)
		}, CheckOfferCurrency, ErrCurrency},
		{"offer over the ceiling", func() []byte {
			w := good
			w.Offer = offerBody(func(b *Offer) { b.Price = d.in.Body.Want.MaxPrice + 1 })
			return encodeRecord(t, w)
		}, CheckOfferPrice, ErrOverCeiling},
		{"not an accept", func() []byte { w := good; w.Accept = d.in.Raw; return encodeRecord(t, w) }, CheckAccept, ErrMalformed},
		{"accept of another intent", func() []byte { w := good; w.Accept = acceptOfOther.Raw; return encodeRecord(t, w) }, CheckAcceptIntent, ErrNotBound},
		{"accept signed by another key", func() []byte { w := good; w.Accept = wrongKey.Raw; return encodeRecord(t, w) }, CheckAcceptSignature, ErrBadSignature},
		{"another vendor's offer", func() []byte { w := good; w.Offer = rival.Raw; return encodeRecord(t, w) }, CheckAcceptOffer, ErrNotBound},
		{"the vendor's other offer", func() []byte { w := good; w.Offer = second.Raw; return encodeRecord(t, w) }, CheckAcceptOffer, ErrNotBound},
		{"accept after the offer lapsed", func() []byte { w := good; w.Accept = late.Raw; return encodeRecord(t, w) }, CheckAcceptTime, ErrNotBound},
		{"accept from the future", func() []byte { w := good; w.Accept = future.Raw; return encodeRecord(t, w) }, CheckAcceptTime, ErrFromFuture},
	}
	if _, err := VerifyDealRecord(encodeRecord(t, good), now); err != nil {
		t.Fatalf("the untampered record: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := VerifyDealRecord(c.raw(), now)
			var de *DealError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want a failed check %s", err, c.check)
			}
			if de.Check != c.check || !errors.Is(err, c.is) {
				t.Fatalf("got %v, want check %s failing with %v", err, c.check, c.is)
			}
		})
	}
}

func TestAcceptCommitsToOffer(t *testing.T) {
	d := newTestDeal(t)
	if !d.accept.Commits(d.offer) {
		t.Fatal("the accept does not commit to the offer it accepts")
	}
	cheaper := testOfferDraft()
	cheaper.Price--
	_, other, err := NewOffer(d.in, d.vendor, cheaper)
	if err != nil {
		t.Fatal(err)
	}
	if d.accept.Commits(other) {
		t.Fatal("the accept commits to another offer too")
	}
}
