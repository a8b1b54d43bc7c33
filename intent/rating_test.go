package intent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// ratingPolicy asks for a little rating work, so the check runs.
var ratingPolicy = Policy{MinWork: 4, MinRatingWork: 6}

func newTestRating(t *testing.T, d testDeal, score uint, created time.Time) *SignedRating {
	t.Helper()
	rec, err := NewDealRecord(d.in.Raw, d.offer.Raw, d.accept.Raw, created)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRating(context.Background(), rec.Raw, d.keys.Signing, RatingDraft{Score: score, Text: "fine", Created: created}, 6)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRatingRoundTrip makes a rating, a reply and a profile with the
// constructors a node uses, and checks them as a relay would.
func TestRatingRoundTrip(t *testing.T) {
	d := newTestDeal(t)
	now := t0.Add(2 * time.Hour)
	r := newTestRating(t, d, 4, now)
	m, err := ParseTrust(r.Raw)
	if err != nil {
		t.Fatal(err)
	}
	got := m.(*SignedRating)
	if err := got.Validate(now, ratingPolicy); err != nil {
		t.Fatal(err)
	}
	if got.IntentID() != d.in.ID || string(got.VendorKey()) != string(d.vendor.Signing.Public()) || got.Body.Score != 4 {
		t.Fatalf("rating rates intent %s vendor %x score %d", got.IntentID().Short(), got.VendorKey()[:4], got.Body.Score)
	}

	rep, err := NewRatingReply(context.Background(), got, d.vendor.Signing, "Thanks!", now.Add(time.Minute), 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.CheckSigned(ratingPolicy); err != nil {
		t.Fatal(err)
	}
	if err := rep.Validate(got.Rated(), now.Add(time.Minute), ratingPolicy); err != nil {
		t.Fatal(err)
	}
	// The customer's key is not the vendor's: its reply is refused.
	stranger, err := NewRatingReply(context.Background(), got, d.keys.Signing, "I am the vendor", now.Add(time.Minute), 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := stranger.Validate(got.Rated(), now.Add(time.Minute), ratingPolicy); !errors.Is(err, ErrWrongVendor) {
		t.Fatalf("a reply by the customer's key: %v, want ErrWrongVendor", err)
	}

	p1, err := NewVendorProfile(context.Background(), d.vendor.Signing, ProfileDraft{Name: "Laptop Laden", URL: "https://l.example", Created: now}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Validate(now, ratingPolicy); err != nil {
		t.Fatal(err)
	}
	p2, err := NewVendorProfile(context.Background(), d.vendor.Signing, ProfileDraft{Name: "Laptop Laden GmbH", Created: now.Add(time.Second)}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if !p2.Newer(p1) || p1.Newer(p2) {
		t.Fatal("the later profile does not replace the earlier")
	}
}

// TestRatingInputRefused: what a customer or vendor cannot sign.
func TestRatingInputRefused(t *testing.T) {
	d := newTestDeal(t)
	now := t0.Add(2 * time.Hour)
	rec, err := NewDealRecord(d.in.Raw, d.offer.Raw, d.accept.Raw, now)
	if err != nil {
		t.Fatal(err)
	}
	for name, dr := range map[string]RatingDraft{
		"score 0":   {Score: 0, Created: now},
		"score 6":   {Score: 6, Created: now},
		"long text": {Score: 3, Text: strings.Repeat("x", MaxRatingText+1), Created: now},
	} {
		if _, err := NewRating(context.Background(), rec.Raw, d.keys.Signing, dr, 0); !errors.Is(err, ErrSchema) {
			t.Errorf("%s: %v, want ErrSchema", name, err)
		}
	}
	if _, err := NewVendorProfile(context.Background(), d.vendor.Signing, ProfileDraft{Name: "x", URL: "javascript:alert(1)", Created: now}, 0); !errors.Is(err, ErrSchema) {
		t.Errorf("javascript URL: %v, want ErrSchema", err)
	}
	// A rating made with the network's work missing is refused by relays.
	r, err := NewRating(context.Background(), rec.Raw, d.keys.Signing, RatingDraft{Score: 3, Created: now}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(now, Policy{MinWork: 4, MinRatingWork: 30}); !errors.Is(err, ErrInsufficientWork) {
		t.Errorf("unworked rating: %v, want ErrInsufficientWork", err)
	}
}
