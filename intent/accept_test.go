package intent

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

func TestAcceptAndDeal(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	vendor := testVendor(t)
	sealed, mine, err := NewOffer(in, vendor, testOfferDraft())
	if err != nil {
		t.Fatal(err)
	}
	opened, err := OpenOffer(sealed, in, keys.Reply, t0)
	if err != nil {
		t.Fatal(err)
	}
	details := []byte("Ship to: Packstation 123, 10115 Berlin")
	acc, err := NewAccept(in, keys, sealed.ID, opened, details, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(acc.Raw, details[:10]) {
		t.Fatal("accept leaks the sealed details")
	}
	// The vendor's side: parse, check against the intent, open the details.
	got, err := ParseAccept(acc.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Validate(in, t0.Add(time.Hour), testPolicy); err != nil {
		t.Fatalf("accept does not validate: %v", err)
	}
	if got.OfferID != sealed.ID || got.IntentID != in.ID {
		t.Fatal("accept names the wrong offer or intent")
	}
	d, err := got.OpenDetails(vendor.Reply)
	if err != nil || !bytes.Equal(d, details) {
		t.Fatalf("details: %q, %v", d, err)
	}
	if !bytes.Equal(opened.Raw, mine.Raw) {
		t.Fatal("customer and vendor do not hold the same signed offer")
	}
	if _, err := got.OpenDetails(testVendor(t).Reply); !errors.Is(err, ErrSealed) {
		t.Fatalf("another vendor opened the details: %v", err)
	}
}

func TestAcceptAndCancelRules(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	other, otherKeys := newTestIntent(t, nil)
	sealed, offer, _ := NewOffer(in, testVendor(t), testOfferDraft())
	acc, _ := NewAccept(in, keys, sealed.ID, offer, nil, t0)
	forgedAcc, _ := NewAccept(in, otherKeys, sealed.ID, offer, nil, t0)
	cancel, _ := NewCancel(in, keys, t0)
	forgedCancel, _ := NewCancel(in, otherKeys, t0)
	future, _ := NewCancel(in, keys, t0.Add(time.Hour))
	type validator interface {
		Validate(*SignedIntent, time.Time, Policy) error
	}
	cases := []struct {
		name string
		msg  validator
		in   *SignedIntent
		now  time.Time
		want error
	}{
		{"accept ok", acc, in, t0, nil},
		{"accept signed by another intent's key", forgedAcc, in, t0, ErrBadSignature},
		{"accept checked against another intent", acc, other, t0, ErrSchema},
		{"accept after the intent expired", acc, in, in.Body.ExpiresAt().Add(DefaultSkew), ErrExpired},
		{"cancel ok", cancel, in, t0, nil},
		{"cancel signed by another intent's key", forgedCancel, in, t0, ErrBadSignature},
		{"cancel from the future", future, in, t0, ErrFromFuture},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.msg.Validate(c.in, c.now, testPolicy)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseDispatch(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	sealed, offer, _ := NewOffer(in, testVendor(t), testOfferDraft())
	acc, _ := NewAccept(in, keys, sealed.ID, offer, nil, t0)
	cancel, _ := NewCancel(in, keys, t0)
	for _, c := range []struct {
		raw  []byte
		kind string
	}{
		{in.Raw, "*intent.SignedIntent"},
		{sealed.Raw, "*intent.SealedOffer"},
		{acc.Raw, "*intent.SignedAccept"},
		{cancel.Raw, "*intent.SignedCancel"},
	} {
		m, err := Parse(c.raw)
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if got := typeName(m); got != c.kind {
			t.Fatalf("Parse gave %s, want %s", got, c.kind)
		}
	}
	if _, err := Parse(offer.Raw); !errors.Is(err, ErrMalformed) {
		t.Fatalf("an unsealed offer on the wire must be refused, got %v", err)
	}
	if _, err := Parse(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty message: %v", err)
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *SignedIntent:
		return "*intent.SignedIntent"
	case *SealedOffer:
		return "*intent.SealedOffer"
	case *SignedAccept:
		return "*intent.SignedAccept"
	case *SignedCancel:
		return "*intent.SignedCancel"
	}
	return "unknown"
}

// TestAcceptDetailsBound: what fits the sealed bound depends on the
// vendor's reply key suite, and more is refused before sealing.
func TestAcceptDetailsBound(t *testing.T) {
	in, keys := newTestIntent(t, nil)
	for _, tt := range []struct {
		suite crypto.Suite
		max   int
	}{{crypto.SuiteX25519, 2000}, {crypto.SuiteXWing, 912}} {
		t.Run(tt.suite.String(), func(t *testing.T) {
			vendor := testVendor(t)
			reply, err := crypto.GenerateReplyKey(tt.suite)
			if err != nil {
				t.Fatal(err)
			}
			vendor.Reply = reply
			sealed, offer, err := NewOffer(in, vendor, testOfferDraft())
			if err != nil {
				t.Fatal(err)
			}
			if got := MaxDetails(tt.suite); got != tt.max {
				t.Fatalf("MaxDetails = %d, want %d", got, tt.max)
			}
			a, err := NewAccept(in, keys, sealed.ID, offer, bytes.Repeat([]byte("x"), tt.max), t0)
			if err != nil {
				t.Fatalf("%d bytes of details: %v", tt.max, err)
			}
			if len(a.Body.Details) != MaxAcceptDetail {
				t.Fatalf("sealed details of %d bytes, want exactly %d", len(a.Body.Details), MaxAcceptDetail)
			}
			if _, err := NewAccept(in, keys, sealed.ID, offer, bytes.Repeat([]byte("x"), tt.max+1), t0); !errors.Is(err, ErrDetailsTooLarge) {
				t.Fatalf("%d bytes of details: %v, want ErrDetailsTooLarge", tt.max+1, err)
			}
		})
	}
}
