package crypto_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/intentcast/intentcast/crypto"
)

// sigStructure is what a COSE_Sign1 signature of m covers, built the plain
// way: the reference for VerifyWith, which hashes it in pieces.
func sigStructure(t testing.TB, m *crypto.Sign1Message) []byte {
	t.Helper()
	tbs, err := cbor.Marshal([]any{"Signature1", m.Protected, []byte{}, m.Payload})
	if err != nil {
		t.Fatal(err)
	}
	return tbs
}

// TestVerifyWithAgreesWithEd25519 checks the verification equation against
// crypto/ed25519 and go-cose on valid signatures, every one-bit change of a
// signature, a non-canonical S (S + L) and payloads whose byte string heads
// take each of the CBOR length forms.
func TestVerifyWithAgreesWithEd25519(t *testing.T) {
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	for _, size := range []int{1, 23, 24, 255, 256, 65535, 65536} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			k := mustSigningKey(t)
			payload := make([]byte, size)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			m := mustSign1(t, k, testContentType, payload)
			vk, err := crypto.ParseVerifyingKey(k.Public())
			if err != nil {
				t.Fatal(err)
			}
			tbs := sigStructure(t, m)
			if !ed25519.Verify(k.Public(), tbs, m.Signature) {
				t.Fatal("the reference Sig_structure does not verify: the test is wrong")
			}
			verifier, err := cose.NewVerifier(cose.AlgorithmEdDSA, k.Public())
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, sig []byte) {
				t.Helper()
				mm := *m
				mm.Signature = sig
				want := ed25519.Verify(k.Public(), tbs, sig)
				got := mm.VerifyWith(&vk)
				if (got == nil) != want {
					t.Fatalf("%s: VerifyWith = %v, crypto/ed25519 says %v", what, got, want)
				}
				if got != nil && !errors.Is(got, crypto.ErrBadSignature) {
					t.Fatalf("%s: VerifyWith error does not wrap ErrBadSignature: %v", what, got)
				}
				if err := mm.Verify(k.Public()); (err == nil) != want {
					t.Fatalf("%s: Verify = %v, crypto/ed25519 says %v", what, err, want)
				}
				cm := cose.Sign1Message{Headers: cose.Headers{
					RawProtected: append([]byte{0x40 | 24, byte(len(m.Protected))}, m.Protected...),
					Protected: cose.ProtectedHeader{
						cose.HeaderLabelAlgorithm:   cose.AlgorithmEdDSA,
						cose.HeaderLabelContentType: m.ContentType,
					},
					RawUnprotected: []byte{0xa0},
				}, Payload: m.Payload, Signature: sig}
				if theirs := cm.Verify(nil, verifier); (theirs == nil) != want {
					t.Fatalf("%s: go-cose Verify = %v, crypto/ed25519 says %v", what, theirs, want)
				}
			}
			check("valid", m.Signature)
			if size > 1000 {
				return // the bit flips below need no long payload
			}
			for bit := range 8 * ed25519.SignatureSize {
				sig := append([]byte(nil), m.Signature...)
				sig[bit/8] ^= 1 << (bit % 8)
				check(fmt.Sprintf("bit %d flipped", bit), sig)
			}
			// S + L is the same scalar, not in canonical form: refused.
			s := new(big.Int).SetBytes(reverse(m.Signature[32:]))
			s.Add(s, l)
			sig := append([]byte(nil), m.Signature[:32]...)
			sig = append(sig, reverse(s.FillBytes(make([]byte, 32)))...)
			check("S + L", sig)
		})
	}
}

// TestVerifyWithZeroKey: the zero VerifyingKey verifies nothing.
func TestVerifyWithZeroKey(t *testing.T) {
	m := mustSign1(t, mustSigningKey(t), testContentType, []byte("x"))
	var zero crypto.VerifyingKey
	if err := m.VerifyWith(&zero); !errors.Is(err, crypto.ErrBadSignature) {
		t.Fatalf("VerifyWith(zero key) = %v, want ErrBadSignature", err)
	}
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}
