package crypto_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The eight points of small order on edwards25519, canonically encoded
// ("Taming the many EdDSAs", Chalkias et al., 2020, table 6), and
// encodings RFC 8032 decoding refuses.
var badSigningKeys = []struct{ name, hex string }{
	{"identity (order 1)", "0100000000000000000000000000000000000000000000000000000000000000"},
	{"y = -1 (order 2)", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = 0, x positive (order 4)", "0000000000000000000000000000000000000000000000000000000000000000"},
	{"y = 0, x negative (order 4)", "0000000000000000000000000000000000000000000000000000000000000080"},
	{"order 8 (1)", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"},
	{"order 8 (2)", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"},
	{"order 8 (3)", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"},
	{"order 8 (4)", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"},
	{"identity, x = 0 with the sign bit", "0100000000000000000000000000000000000000000000000000000000000080"},
	{"identity as y = 1 + p", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = 3 (a point of large order) as 3 + p", "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"},
	{"y = 2: not on the curve", "0200000000000000000000000000000000000000000000000000000000000000"},
}

func TestCheckSigningKey(t *testing.T) {
	for range 16 {
		k, err := crypto.GenerateSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := crypto.CheckSigningKey(k.Public()); err != nil {
			t.Fatalf("a generated key is refused: %v", err)
		}
	}
	// y = 3 canonically encoded is a valid point: only its non-canonical
	// encoding below is bad.
	if err := crypto.CheckSigningKey(unhex(t, "0300000000000000000000000000000000000000000000000000000000000000")); err != nil {
		t.Fatalf("y = 3, canonical: %v", err)
	}
	for _, k := range badSigningKeys {
		t.Run(k.name, func(t *testing.T) {
			if err := crypto.CheckSigningKey(unhex(t, k.hex)); !errors.Is(err, crypto.ErrBadKey) {
				t.Fatalf("CheckSigningKey = %v, want ErrBadKey", err)
			}
		})
	}
	if err := crypto.CheckSigningKey(make([]byte, 31)); !errors.Is(err, crypto.ErrBadKey) {
		t.Fatalf("31 bytes: %v, want ErrBadKey", err)
	}
}

// TestSmallOrderKeyForgery shows the attack key validity stops: under the
// identity key, the signature (R = identity, S = 0) verifies for every
// message with plain Ed25519, and Verify refuses it.
func TestSmallOrderKeyForgery(t *testing.T) {
	identity := unhex(t, badSigningKeys[0].hex)
	forged := append(bytes.Clone(identity), make([]byte, 32)...)
	for _, msg := range []string{"an offer", "an accept", "anything at all"} {
		if !ed25519.Verify(identity, []byte(msg), forged) {
			t.Fatalf("plain Ed25519 refuses the forgery of %q: the test's premise is wrong", msg)
		}
	}
	k := mustSigningKey(t)
	raw, err := crypto.Sign1(k, testContentType, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := crypto.ParseSign1(raw)
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = forged
	err = m.Verify(identity)
	if !errors.Is(err, crypto.ErrBadKey) || !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatalf("Verify under the identity key = %v, want ErrBadKey and ErrBadSignature", err)
	}
}

// The five canonical u-coordinates of small order, little-endian: 0, 1,
// p-1 and the two points of order 8.
var smallOrderX25519 = []string{
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
}

func TestCheckX25519ReplyKey(t *testing.T) {
	// The list is exactly what makes X25519 give no shared secret.
	priv, err := ecdh.X25519().GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range smallOrderX25519 {
		pub, err := ecdh.X25519().NewPublicKey(unhex(t, h))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := priv.ECDH(pub); err == nil {
			t.Fatalf("X25519 with %s has a shared secret: it is not of small order", h)
		}
	}
	check := func(key []byte) error {
		return crypto.PublicReplyKey{Suite: crypto.SuiteX25519, Key: key}.Check()
	}
	var bad [][]byte
	for _, h := range smallOrderX25519 {
		u := unhex(t, h)
		high := bytes.Clone(u)
		high[31] |= 0x80
		bad = append(bad, u, high)
	}
	good := mustReplyKey(t, crypto.SuiteX25519).Public().Key
	if err := check(good); err != nil {
		t.Fatalf("a generated key is refused: %v", err)
	}
	high := bytes.Clone(good)
	high[31] |= 0x80
	bad = append(bad, high, // the same key with the ignored top bit set
		unhex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // p, i.e. 0
		unhex(t, "f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")) // 3 + p
	for _, u := range bad {
		if err := check(u); !errors.Is(err, crypto.ErrBadKey) {
			t.Errorf("Check(%x) = %v, want ErrBadKey", u, err)
		}
	}
}

func TestCheckXWingReplyKey(t *testing.T) {
	good := mustReplyKey(t, crypto.SuiteXWing).Public().Key
	check := func(key []byte) error {
		return crypto.PublicReplyKey{Suite: crypto.SuiteXWing, Key: key}.Check()
	}
	if err := check(good); err != nil {
		t.Fatalf("a generated key is refused: %v", err)
	}
	// The first ML-KEM coefficient set to 4095, over q = 3329.
	overQ := bytes.Clone(good)
	overQ[0] = 0xff
	overQ[1] |= 0x0f
	zeroX := bytes.Clone(good)
	clear(zeroX[len(zeroX)-32:])
	orderEight := append(bytes.Clone(good[:len(good)-32]), unhex(t, smallOrderX25519[3])...)
	for name, key := range map[string][]byte{"ML-KEM coefficient over q": overQ, "zero X25519 part": zeroX, "X25519 part of order 8": orderEight} {
		if err := check(key); !errors.Is(err, crypto.ErrBadKey) {
			t.Errorf("%s: Check = %v, want ErrBadKey", name, err)
		}
		_, err := crypto.Seal(crypto.PublicReplyKey{Suite: crypto.SuiteXWing, Key: key}, nil, nil, []byte("x"))
		if !errors.Is(err, crypto.ErrBadKey) {
			t.Errorf("%s: Seal = %v, want ErrBadKey", name, err)
		}
	}
}
