package crypto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

func mustReplyKey(t testing.TB, s crypto.Suite) crypto.ReplyKey {
	t.Helper()
	k, err := crypto.GenerateReplyKey(s)
	if err != nil {
		t.Fatalf("GenerateReplyKey(%v): %v", s, err)
	}
	return k
}

func TestReplyKeyBytesRoundTrip(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			k := mustReplyKey(t, s)
			again, err := crypto.ReplyKeyFromBytes(s, k.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if again.Suite() != s {
				t.Errorf("Suite() = %v, want %v", again.Suite(), s)
			}
			if !bytes.Equal(again.Bytes(), k.Bytes()) {
				t.Errorf("Bytes() after a round trip = %x, want %x", again.Bytes(), k.Bytes())
			}
			if !bytes.Equal(again.Public().Key, k.Public().Key) {
				t.Error("public key changed in a round trip through Bytes")
			}
			// The rebuilt key opens what was sealed to the original.
			sealed, err := crypto.Seal(k.Public(), nil, nil, []byte("x"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := crypto.Open(again, nil, nil, sealed); err != nil {
				t.Errorf("key rebuilt from Bytes cannot open: %v", err)
			}
		})
	}
}

func TestReplyKeyPublic(t *testing.T) {
	for _, s := range suites {
		t.Run(s.String(), func(t *testing.T) {
			k := mustReplyKey(t, s)
			pub := k.Public()
			if pub.Suite != s {
				t.Errorf("Public().Suite = %v, want %v", pub.Suite, s)
			}
			if err := pub.Check(); err != nil {
				t.Errorf("Check() of a generated key: %v", err)
			}
			pub.Key[0] ^= 0xff
			if bytes.Equal(k.Public().Key, pub.Key) {
				t.Error("changing the slice Public returned changed the key")
			}
			if other := mustReplyKey(t, s); bytes.Equal(other.Public().Key, k.Public().Key) {
				t.Error("two generated keys have the same public key")
			}
		})
	}
}

func TestPublicReplyKeyCheckRejects(t *testing.T) {
	x25519 := mustReplyKey(t, crypto.SuiteX25519).Public().Key
	xwing := mustReplyKey(t, crypto.SuiteXWing).Public().Key
	tests := []struct {
		name string
		pub  crypto.PublicReplyKey
		want error
	}{
		{"unknown suite 0", crypto.PublicReplyKey{Suite: 0, Key: x25519}, crypto.ErrUnknownSuite},
		{"unsupported suite P-256", crypto.PublicReplyKey{Suite: 0x0010, Key: x25519}, crypto.ErrUnknownSuite},
		{"x25519 key empty", crypto.PublicReplyKey{Suite: crypto.SuiteX25519}, crypto.ErrMalformed},
		{"x25519 key 31 bytes", crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: x25519[:31]}, crypto.ErrMalformed},
		{"x25519 key 33 bytes", crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: append(bytes.Clone(x25519), 0)}, crypto.ErrMalformed},
		{"x25519 suite, xwing key", crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: xwing}, crypto.ErrMalformed},
		{"xwing suite, x25519 key", crypto.PublicReplyKey{Suite: crypto.SuiteXWing, Key: x25519}, crypto.ErrMalformed},
		{"xwing key one byte short", crypto.PublicReplyKey{Suite: crypto.SuiteXWing, Key: xwing[:len(xwing)-1]}, crypto.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.pub.Check(); !errors.Is(err, tt.want) {
				t.Errorf("Check() = %v, want an error wrapping %v", err, tt.want)
			}
		})
	}
}

func TestReplyKeyFromBytesRejects(t *testing.T) {
	tests := []struct {
		name  string
		suite crypto.Suite
		b     []byte
		want  error
	}{
		{"unknown suite", 0x0010, make([]byte, 32), crypto.ErrUnknownSuite},
		{"x25519 empty", crypto.SuiteX25519, nil, crypto.ErrKeyFile},
		{"x25519 31 bytes", crypto.SuiteX25519, make([]byte, 31), crypto.ErrKeyFile},
		{"x25519 33 bytes", crypto.SuiteX25519, make([]byte, 33), crypto.ErrKeyFile},
		{"xwing 31 bytes", crypto.SuiteXWing, make([]byte, 31), crypto.ErrKeyFile},
		{"xwing 64 bytes", crypto.SuiteXWing, make([]byte, 64), crypto.ErrKeyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := crypto.ReplyKeyFromBytes(tt.suite, tt.b)
			if !errors.Is(err, tt.want) {
				t.Errorf("ReplyKeyFromBytes = %v, %v; want an error wrapping %v", k, err, tt.want)
			}
		})
	}
}

func TestGenerateReplyKeyUnknownSuite(t *testing.T) {
	if _, err := crypto.GenerateReplyKey(0x0010); !errors.Is(err, crypto.ErrUnknownSuite) {
		t.Errorf("GenerateReplyKey(0x0010) = %v, want an error wrapping ErrUnknownSuite", err)
	}
}

func TestReplyKeyZero(t *testing.T) {
	var k crypto.ReplyKey
	if !k.IsZero() {
		t.Error("zero ReplyKey: IsZero = false")
	}
	if got := k.String(); got != "ReplyKey(zero)" {
		t.Errorf("zero ReplyKey: String = %q, want %q", got, "ReplyKey(zero)")
	}
	if k.Bytes() != nil || k.Public().Key != nil {
		t.Errorf("zero ReplyKey: Bytes = %x, Public().Key = %x, want nil, nil", k.Bytes(), k.Public().Key)
	}
	if mustReplyKey(t, crypto.SuiteX25519).IsZero() {
		t.Error("a generated ReplyKey reports IsZero")
	}
}
