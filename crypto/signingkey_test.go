package crypto_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

func TestSigningKeySeedRoundTrip(t *testing.T) {
	k := mustSigningKey(t)
	again, err := crypto.SigningKeyFromSeed(k.Seed())
	if err != nil {
		t.Fatal(err)
	}
	if !k.Public().Equal(again.Public()) {
		t.Errorf("key rebuilt from its seed has public key %x, want %x", again.Public(), k.Public())
	}
	if k.IsZero() || again.IsZero() {
		t.Error("a generated key reports IsZero")
	}
}

func TestSigningKeysDiffer(t *testing.T) {
	a, b := mustSigningKey(t), mustSigningKey(t)
	if bytes.Equal(a.Seed(), b.Seed()) {
		t.Error("two generated keys have the same seed")
	}
}

func TestSigningKeySeedIsACopy(t *testing.T) {
	k := mustSigningKey(t)
	seed := k.Seed()
	seed[0] ^= 0xff
	if bytes.Equal(k.Seed(), seed) {
		t.Error("changing the slice Seed returned changed the key")
	}
}

func TestSigningKeyFromSeedRejects(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		t.Run(fmt.Sprint(n, " bytes"), func(t *testing.T) {
			_, err := crypto.SigningKeyFromSeed(make([]byte, n))
			if !errors.Is(err, crypto.ErrKeyFile) {
				t.Errorf("SigningKeyFromSeed(%d bytes) = %v, want an error wrapping ErrKeyFile", n, err)
			}
		})
	}
}

func TestSigningKeyZero(t *testing.T) {
	var k crypto.SigningKey
	if !k.IsZero() {
		t.Error("zero SigningKey: IsZero = false")
	}
	if got := k.String(); got != "SigningKey(zero)" {
		t.Errorf("zero SigningKey: String = %q, want %q", got, "SigningKey(zero)")
	}
	if k.Seed() != nil || k.Public() != nil {
		t.Errorf("zero SigningKey: Seed = %x, Public = %x, want nil, nil", k.Seed(), k.Public())
	}
}

// Printing keys, alone or inside an Identity, in any verb, must never show
// private key material.
func TestKeysDoNotPrintSecrets(t *testing.T) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, b := range [][]byte{id.Signing.Seed(), id.Reply.Bytes()} {
		// As fmt would print the bytes: hex, decimal, or Go syntax.
		secrets = append(secrets,
			hex.EncodeToString(b),
			strings.Trim(fmt.Sprint(b), "[]"),
			strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", b), "[]byte{"), "}"))
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		for _, v := range []any{id, id.Signing, id.Reply, &id} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range secrets {
				if strings.Contains(strings.ToLower(out), secret) {
					t.Errorf("fmt.Sprintf(%q, %T) = %s, which contains private key material", verb, v, out)
				}
			}
		}
	}
}
