package intent

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
)

// BenchmarkJunkOffer weighs a worked junk offer (random ciphertext under a
// live intent's ID, with the network's offer work) on both sides, per reply
// key suite of the intent:
//
//   - the customer: what its node pays to find it is junk: parse, the work
//     check, and an HPKE open that fails (ns/check);
//   - the attacker: what minting it costs: 2^DefaultOfferWork hashes on
//     average, at the hash rate measured on the same core (ns/offer).
//
// Each iteration does one of each (the mint at 12 bits, to measure the
// hash rate), so a machine busy with other work slows both alike and the
// ratio (attacker/customer) stays put (docs/BENCHMARKS.md, Junk offers):
//
//	go test -run x -bench JunkOffer -count 5 ./intent/
func BenchmarkJunkOffer(b *testing.B) {
	for _, suite := range []struct {
		name  string
		suite crypto.Suite
	}{{"x25519", crypto.SuiteX25519}, {"xwing", crypto.SuiteXWing}} {
		b.Run(suite.name, func(b *testing.B) {
			in, keys := newTestIntent(b, func(d *Draft) { d.Suite = suite.suite })
			raw := workedJunk(b, in, DefaultOfferWork)
			p := Policy{MinOfferWork: DefaultOfferWork}
			now := t0.Add(time.Hour)
			fresh := junkOffer(b, in)
			var check, hash time.Duration
			var checks, tries, last uint64
			for b.Loop() {
				t1 := time.Now()
				s, err := ParseSealedOffer(raw)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.CheckWork(p); err != nil {
					b.Fatal(err)
				}
				if _, err := OpenOffer(s, in, keys.Reply, now); err == nil || errors.Is(err, ErrOfferMalformed) {
					b.Fatalf("junk opened (%v)", err)
				}
				t2 := time.Now()
				// The attacker: a fresh offer ID, then the search.
				rand.Read(fresh.ciphertext)
				var ok bool
				if fresh.ID, ok = fresh.sealedID(); !ok {
					b.Fatal("cannot encode the offer ID")
				}
				buf := append(fresh.ID[:len(fresh.ID):len(fresh.ID)], make([]byte, NonceSize)...)
				if err := mint(context.Background(), offerPowDomain, buf, 12, func(n uint64) { last = n }); err != nil {
					b.Fatal(err)
				}
				check += t2.Sub(t1)
				hash += time.Since(t2)
				checks++
				tries += last // the last progress call reports the tries
			}
			perCheck := float64(check.Nanoseconds()) / float64(checks)
			perOffer := math.Exp2(DefaultOfferWork) * float64(hash.Nanoseconds()) / float64(tries)
			b.ReportMetric(perCheck, "ns/check")
			b.ReportMetric(perOffer, "ns/offer")
			b.ReportMetric(float64(tries)/hash.Seconds(), "hashes/s")
			b.ReportMetric(perOffer/perCheck, "attacker/customer")
		})
	}
}

// junkOffer is a sealed offer to in whose ciphertext is random bytes of a
// real offer's length (for in's reply key suite), with no work yet.
func junkOffer(b *testing.B, in *SignedIntent) *SealedOffer {
	b.Helper()
	_, signed, err := NewOffer(in, testVendor(b), testOfferDraft())
	if err != nil {
		b.Fatal(err)
	}
	s, err := sealOffer(in, signed.Raw)
	if err != nil {
		b.Fatal(err)
	}
	rand.Read(s.ciphertext)
	var ok bool
	if s.ID, ok = s.sealedID(); !ok {
		b.Fatal("cannot encode the offer ID")
	}
	return s
}

// workedJunk is a junk offer to in with bits of work, on the wire.
func workedJunk(b *testing.B, in *SignedIntent, bits int) []byte {
	b.Helper()
	s := junkOffer(b, in)
	if err := s.Mint(context.Background(), bits); err != nil {
		b.Fatal(err)
	}
	return s.Raw
}
