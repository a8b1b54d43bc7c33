package crypto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

var (
	testInfo = []byte("intentcast/1 offer\x00intent-id")
	testAAD  = []byte("envelope header")
)

func TestSealOpenRoundTrip(t *testing.T) {
	for _, s := range suites {
		for _, plaintext := range [][]byte{nil, []byte("offer: 250 EUR"), bytes.Repeat([]byte("z"), 1<<16)} {
			k := mustReplyKey(t, s)
			sealed, err := crypto.Seal(k.Public(), testInfo, testAAD, plaintext)
			if err != nil {
				t.Fatalf("%v: Seal: %v", s, err)
			}
			got, err := crypto.Open(k, testInfo, testAAD, sealed)
			if err != nil {
				t.Fatalf("%v: Open: %v", s, err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Errorf("%v: Open = %d bytes, want the %d sealed", s, len(got), len(plaintext))
			}
		}
	}
}

// The overhead is the encapsulated key plus the AEAD tag: the wire cost of
// each suite, documented in PROTOCOL.md.
func TestSealOverhead(t *testing.T) {
	for _, tt := range []struct {
		suite    crypto.Suite
		overhead int
	}{
		{crypto.SuiteX25519, 32 + 16},
		{crypto.SuiteXWing, 1120 + 16},
	} {
		sealed, err := crypto.Seal(mustReplyKey(t, tt.suite).Public(), nil, nil, []byte("12345"))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(sealed) - 5; got != tt.overhead {
			t.Errorf("%v: Seal adds %d bytes, want %d", tt.suite, got, tt.overhead)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	pub := mustReplyKey(t, crypto.SuiteX25519).Public()
	a, err := crypto.Seal(pub, testInfo, testAAD, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.Seal(pub, testInfo, testAAD, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("sealing the same plaintext twice gave the same bytes: the encapsulation is not fresh")
	}
}

func TestOpenRejects(t *testing.T) {
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = bytes.Clone(b)
			b[(i+len(b))%len(b)] ^= 0x01
			return b
		}
	}
	for _, s := range suites {
		k := mustReplyKey(t, s)
		other := mustReplyKey(t, s)
		otherSuite := mustReplyKey(t, suites[0])
		if s == suites[0] {
			otherSuite = mustReplyKey(t, suites[1])
		}
		plaintext := []byte("offer: 250 EUR")
		sealed, err := crypto.Seal(k.Public(), testInfo, testAAD, plaintext)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			key    crypto.ReplyKey
			info   []byte
			aad    []byte
			sealed []byte
		}{
			{"wrong info", k, []byte("intentcast/1 offer\x00other-intent"), testAAD, sealed},
			{"no info", k, nil, testAAD, sealed},
			{"wrong aad", k, testInfo, []byte("other header"), sealed},
			{"no aad", k, testInfo, nil, sealed},
			{"wrong key", other, testInfo, testAAD, sealed},
			{"key of the other suite", otherSuite, testInfo, testAAD, sealed},
			{"zero key", crypto.ReplyKey{}, testInfo, testAAD, sealed},
			{"empty", k, testInfo, testAAD, nil},
			{"truncated by one byte", k, testInfo, testAAD, sealed[:len(sealed)-1]},
			{"only the encapsulated key and tag", k, testInfo, testAAD, sealed[:len(sealed)-len(plaintext)]},
			{"only the encapsulated key", k, testInfo, testAAD, sealed[:len(sealed)-len(plaintext)-16]},
			{"flipped byte in the encapsulated key", k, testInfo, testAAD, flip(0)(sealed)},
			{"encapsulated key zeroed", k, testInfo, testAAD, zeroPrefix(sealed, len(sealed)-len(plaintext)-16)},
			{"flipped byte in the ciphertext", k, testInfo, testAAD, flip(-20)(sealed)},
			{"flipped byte in the tag", k, testInfo, testAAD, flip(-1)(sealed)},
			{"extra byte", k, testInfo, testAAD, append(bytes.Clone(sealed), 0)},
		}
		for _, tt := range tests {
			t.Run(s.String()+"/"+tt.name, func(t *testing.T) {
				got, err := crypto.Open(tt.key, tt.info, tt.aad, tt.sealed)
				if !errors.Is(err, crypto.ErrOpen) {
					t.Errorf("Open = %q, %v; want an error wrapping ErrOpen", got, err)
				}
			})
		}
	}
}

// zeroPrefix returns a copy of b with its first n bytes zeroed. An all-zero
// X25519 share is a low-order point, which decapsulation itself refuses.
func zeroPrefix(b []byte, n int) []byte {
	b = bytes.Clone(b)
	clear(b[:n])
	return b
}

func TestSealRejects(t *testing.T) {
	tests := []struct {
		name string
		pub  crypto.PublicReplyKey
		want error
	}{
		{"unknown suite", crypto.PublicReplyKey{Suite: 0x0010, Key: make([]byte, 65)}, crypto.ErrUnknownSuite},
		{"short key", crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: make([]byte, 31)}, crypto.ErrMalformed},
		// The all-zero X25519 point has low order: no shared secret exists.
		{"low-order x25519 key", crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: make([]byte, 32)}, crypto.ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, err := crypto.Seal(tt.pub, testInfo, testAAD, []byte("x"))
			if !errors.Is(err, tt.want) {
				t.Errorf("Seal = %x, %v; want an error wrapping %v", sealed, err, tt.want)
			}
		})
	}
}
