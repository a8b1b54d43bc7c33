package crypto_test

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

// benchPayload is about the size of an intent or offer body.
var benchPayload = bytes.Repeat([]byte("intentcast "), 94)[:1024]

func BenchmarkSign1(b *testing.B) {
	k := mustSigningKey(b)
	for b.Loop() {
		if _, err := crypto.Sign1(k, testContentType, benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySign1 is what a relay pays per message after parsing; compare
// with BenchmarkEd25519VerifyRaw for the cost of the COSE wrapping.
func BenchmarkVerifySign1(b *testing.B) {
	k := mustSigningKey(b)
	m := mustSign1(b, k, testContentType, benchPayload)
	pub := k.Public()
	for b.Loop() {
		if err := m.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWith is BenchmarkVerifySign1 under a key decoded once
// (ParseVerifyingKey), as a relay verifies an intent after its schema check.
func BenchmarkVerifyWith(b *testing.B) {
	k := mustSigningKey(b)
	m := mustSign1(b, k, testContentType, benchPayload)
	vk, err := crypto.ParseVerifyingKey(k.Public())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := m.VerifyWith(&vk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519VerifyRaw is the baseline: a bare Ed25519 signature over
// the same payload.
func BenchmarkEd25519VerifyRaw(b *testing.B) {
	priv := ed25519.NewKeyFromSeed(mustSigningKey(b).Seed())
	pub := priv.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(priv, benchPayload)
	for b.Loop() {
		if !ed25519.Verify(pub, benchPayload, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

func BenchmarkParseSign1(b *testing.B) {
	msg, err := crypto.Sign1(mustSigningKey(b), testContentType, benchPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := crypto.ParseSign1(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			pub := mustReplyKey(b, s).Public()
			for b.Loop() {
				if _, err := crypto.Seal(pub, testInfo, testAAD, benchPayload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			k := mustReplyKey(b, s)
			sealed, err := crypto.Seal(k.Public(), testInfo, testAAD, benchPayload)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := crypto.Open(k, testInfo, testAAD, sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckKey is the cost key validity adds to every intent (one
// Ed25519 and one reply key check), beside BenchmarkVerify's signature.
func BenchmarkCheckKey(b *testing.B) {
	b.Run("ed25519", func(b *testing.B) {
		pub := mustSigningKey(b).Public()
		for b.Loop() {
			if err := crypto.CheckSigningKey(pub); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, s := range suites {
		b.Run(s.String(), func(b *testing.B) {
			pub := mustReplyKey(b, s).Public()
			for b.Loop() {
				if err := pub.Check(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
