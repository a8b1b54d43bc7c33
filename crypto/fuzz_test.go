package crypto_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/veraison/go-cose"

	"github.com/intentcast/intentcast/crypto"
)

// FuzzParseSign1 checks that ParseSign1 never panics, that every failure
// wraps ErrMalformed, that ParseSign1Owned decides and parses alike, and
// that whatever it accepts is the one canonical encoding of its parts:
// rebuilt by the test's own encoder it is the input byte for byte, and
// go-cose, an independent parser, reads the same parts.
func FuzzParseSign1(f *testing.F) {
	k, err := crypto.SigningKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	valid, err := crypto.Sign1(k, testContentType, []byte("want: bicycle"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(goodMessage)
	f.Add(valid[:len(valid)-1])
	f.Add(valid[1:])
	f.Add(sign1(bstr(cat([]byte{0xa2, 0x03}, tstr("a/b"), []byte{0x01, 0x27})), goodUnprotected, goodPayload, goodSignature))
	f.Add(sign1(goodProtected, goodUnprotected, cat([]byte{0x58, 0x05}, []byte("hello")), goodSignature))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := crypto.ParseSign1(data)
		owned, ownedErr := crypto.ParseSign1Owned(bytes.Clone(data))
		if fmt.Sprint(ownedErr) != fmt.Sprint(err) || (err == nil && !reflect.DeepEqual(owned, m)) {
			t.Fatalf("ParseSign1Owned disagrees with ParseSign1:\n owned %+v, %v\ncopied %+v, %v", owned, ownedErr, m, err)
		}
		if err != nil {
			if !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			if m != nil {
				t.Fatalf("ParseSign1 returned a message along with error %v", err)
			}
			return
		}
		rebuilt := sign1(bstr(protected(m.ContentType)), goodUnprotected, bstr(m.Payload), bstr(m.Signature))
		if !bytes.Equal(rebuilt, data) {
			t.Fatalf("accepted a non-canonical encoding:\n input %x\nparts re-encode to %x", data, rebuilt)
		}
		if !bytes.Equal(m.Raw, data) {
			t.Fatalf("Raw = %x, want the input %x", m.Raw, data)
		}
		if !bytes.Equal(m.Protected, protected(m.ContentType)) {
			t.Fatalf("Protected = %x, want %x", m.Protected, protected(m.ContentType))
		}

		var cm cose.Sign1Message
		if err := cm.UnmarshalCBOR(data); err != nil {
			t.Fatalf("accepted a message go-cose cannot decode: %v", err)
		}
		if alg, err := cm.Headers.Protected.Algorithm(); err != nil || alg != cose.AlgorithmEdDSA {
			t.Fatalf("go-cose reads alg %v (%v), want EdDSA", alg, err)
		}
		if ct := cm.Headers.Protected[cose.HeaderLabelContentType]; ct != m.ContentType {
			t.Fatalf("go-cose reads content type %v, ParseSign1 %q", ct, m.ContentType)
		}
		if len(cm.Headers.Unprotected) != 0 || !bytes.Equal(cm.Payload, m.Payload) || !bytes.Equal(cm.Signature, m.Signature) {
			t.Fatalf("go-cose reads different parts: unprotected %v, payload %x, signature %x", cm.Headers.Unprotected, cm.Payload, cm.Signature)
		}

		// Verify must decide, without panicking, and agree with go-cose.
		verifier, err := cose.NewVerifier(cose.AlgorithmEdDSA, k.Public())
		if err != nil {
			t.Fatal(err)
		}
		ours, theirs := m.Verify(k.Public()), cm.Verify(nil, verifier)
		if (ours == nil) != (theirs == nil) {
			t.Fatalf("Verify = %v, go-cose Verify = %v", ours, theirs)
		}
		if ours != nil && !errors.Is(ours, crypto.ErrBadSignature) {
			t.Fatalf("Verify error does not wrap ErrBadSignature: %v", ours)
		}
	})
}
