package intent

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"
)

// FuzzVerifyDealRecord feeds VerifyDealRecord what anyone can hand a
// verifier: it must not panic, must name one of DealChecks for whatever it
// refuses, and what it accepts must be the canonical encoding of its parts.
func FuzzVerifyDealRecord(f *testing.F) {
	d := newTestDeal(f)
	rec, err := NewDealRecord(d.in.Raw, d.offer.Raw, d.accept.Raw, t0.Add(2*time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec.Raw)
	f.Add(rec.Raw[:len(rec.Raw)/2])
	f.Add([]byte{0xa4, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := VerifyDealRecord(raw, t0.Add(2*time.Hour))
		if err != nil {
			var de *DealError
			if got != nil || !errors.As(err, &de) || !slices.Contains(DealChecks, de.Check) {
				t.Fatalf("refused with %v (record %v): want a *DealError naming a known check", err, got)
			}
			return
		}
		again, err := marshal(dealRecordWire{Version: Version, Intent: got.Intent.Raw, Offer: got.Offer.Raw, Accept: got.Accept.Raw})
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("accepted a record that is not the canonical encoding of its parts (%v)", err)
		}
	})
}
