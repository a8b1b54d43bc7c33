package intent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/intentcast/intentcast/crypto"
)

// The benchmarks measure one message of the test fixture (helpers_test.go):
// a realistic intent with multilingual text, a path and the default terms.
// Run them with `go test -run x -bench . -benchmem ./intent/`;
// docs/BENCHMARKS.md records the figures.

func BenchmarkEncodeIntent(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	for b.Loop() {
		if _, err := marshal(s.Body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIntent(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	b.SetBytes(int64(len(s.Raw)))
	for b.Loop() {
		if _, err := ParseIntent(s.Raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateIntent is what a relay pays per intent: size, envelope,
// canonical payload, schema, proof of work and signature.
func BenchmarkValidateIntent(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	b.SetBytes(int64(len(s.Raw)))
	for b.Loop() {
		if err := parseAndValidate(s.Raw, t0, testPolicy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify is the floor BenchmarkValidateIntent is measured
// against: one bare Ed25519 verification of exactly the bytes the intent's
// COSE signature covers (its Sig_structure).
func BenchmarkEd25519Verify(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	tbs, err := cbor.Marshal([]any{"Signature1", s.msg.Protected, []byte{}, s.msg.Payload})
	if err != nil {
		b.Fatal(err)
	}
	pub := ed25519.PublicKey(s.Body.SigningKey)
	if !ed25519.Verify(pub, tbs, s.msg.Signature) {
		b.Fatal("the Sig_structure is not what the intent's signature covers")
	}
	b.SetBytes(int64(len(s.Raw)))
	for b.Loop() {
		ed25519.Verify(pub, tbs, s.msg.Signature)
	}
}

func BenchmarkSign(b *testing.B) {
	s, keys := newTestIntent(b, nil)
	for b.Loop() {
		if _, err := crypto.Sign1(keys.Signing, ContentIntent, s.msg.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

// benchOffer returns an intent, its keys and the vendor-signed inner offer.
func benchOffer(b *testing.B) (*SignedIntent, Keys, *SealedOffer, []byte) {
	in, keys := newTestIntent(b, nil)
	sealed, signed, err := NewOffer(in, testVendor(b), testOfferDraft())
	if err != nil {
		b.Fatal(err)
	}
	return in, keys, sealed, signed.Raw
}

// BenchmarkSealOffer is the vendor's cost of sealing a signed offer: HPKE
// encapsulation and encryption plus the envelope.
func BenchmarkSealOffer(b *testing.B) {
	in, _, _, inner := benchOffer(b)
	for b.Loop() {
		if _, err := sealOffer(in, inner); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenOffer is the customer's cost per offer: HPKE open, parse,
// vendor signature and the checks against the intent.
func BenchmarkOpenOffer(b *testing.B) {
	in, keys, sealed, _ := benchOffer(b)
	now := t0.Add(time.Hour)
	for b.Loop() {
		if _, err := OpenOffer(sealed, in, keys.Reply, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMint mints real intent payloads on one goroutine (one core). Each
// iteration changes the payload so every search is a fresh one. The number
// of tries per search is geometric with mean 2^bits, so hashes/s is the
// stable figure and ns/intent the one a customer feels.
func BenchmarkMint(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	for _, bits := range []int{8, 12, 16} {
		b.Run(fmt.Sprint(bits), func(b *testing.B) {
			payload := append([]byte(nil), s.msg.Payload...)
			var last, total, n uint64
			count := func(tries uint64) { last = tries } // the final call reports the total
			for b.Loop() {
				// The first bytes stand in for a fresh intent: Mint only hashes.
				binary.BigEndian.PutUint64(payload, n)
				n++
				if err := Mint(context.Background(), payload, bits, count); err != nil {
					b.Fatal(err)
				}
				total += last
			}
			if !CheckWork(payload, bits) {
				b.Fatal("minted payload lacks its work")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/intent")
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "hashes/s")
			b.ReportMetric(float64(total)/float64(n), "hashes/intent")
		})
	}
}

// BenchmarkCheckWork is a verifier's cost: one domain-separated hash.
func BenchmarkCheckWork(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	for b.Loop() {
		if !CheckWork(s.msg.Payload, 8) {
			b.Fatal("fixture lacks its work")
		}
	}
}

// BenchmarkRetainedIntent reports the heap a parsed, validated intent keeps
// alive (retained-B/intent): a relay holds one for every live intent, for
// hours, and every garbage-collection cycle marks them all. Each intent is
// parsed from a buffer of its own, as a gossip message arrives.
func BenchmarkRetainedIntent(b *testing.B) {
	s, _ := newTestIntent(b, nil)
	const n = 2000
	kept := make([]*SignedIntent, n)
	var retained float64
	for b.Loop() {
		clear(kept)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range kept {
			in, err := ParseIntent(bytes.Clone(s.Raw))
			if err != nil {
				b.Fatal(err)
			}
			if err := in.Validate(t0, testPolicy); err != nil {
				b.Fatal(err)
			}
			kept[i] = in
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	}
	b.ReportMetric(retained, "retained-B/intent")
}
