package intent

import (
	"testing"
	"time"
)

// BenchmarkValidateRating is what a relay spends on one valid rating: the
// work check, the deal record's three signatures and bindings, and the
// rating's own signature.
func BenchmarkValidateRating(b *testing.B) {
	d := newTestDeal(b)
	now := t0.Add(2 * time.Hour)
	rec, err := NewDealRecord(d.in.Raw, d.offer.Raw, d.accept.Raw, now)
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewRating(b.Context(), rec.Raw, d.keys.Signing, RatingDraft{Score: 4, Text: "fine", Created: now}, 6)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(r.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseTrust(r.Raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.(*SignedRating).Validate(now, ratingPolicy); err != nil {
			b.Fatal(err)
		}
	}
}
