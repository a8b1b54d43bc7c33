package crypto_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/veraison/go-cose"

	"github.com/intentcast/intentcast/crypto"
)

func mustSigningKey(t testing.TB) crypto.SigningKey {
	t.Helper()
	k, err := crypto.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign1(t testing.TB, k crypto.SigningKey, contentType string, payload []byte) *crypto.Sign1Message {
	t.Helper()
	msg, err := crypto.Sign1(k, contentType, payload)
	if err != nil {
		t.Fatalf("Sign1: %v", err)
	}
	m, err := crypto.ParseSign1(msg)
	if err != nil {
		t.Fatalf("ParseSign1(Sign1 output %x): %v", msg, err)
	}
	return m
}

func TestSign1RoundTrip(t *testing.T) {
	k := mustSigningKey(t)
	payload := []byte("want: a used road bike, under 300 EUR")
	msg, err := crypto.Sign1(k, testContentType, payload)
	if err != nil {
		t.Fatal(err)
	}
	m, err := crypto.ParseSign1(msg)
	if err != nil {
		t.Fatalf("ParseSign1 refuses what Sign1 wrote: %v", err)
	}
	if err := m.Verify(k.Public()); err != nil {
		t.Errorf("Verify with the signing key's public half: %v", err)
	}
	if m.ContentType != testContentType || !bytes.Equal(m.Payload, payload) {
		t.Errorf("parsed (%q, %q), want (%q, %q)", m.ContentType, m.Payload, testContentType, payload)
	}
	// The wire form is exactly the documented one.
	want := sign1(goodProtected, goodUnprotected, bstr(payload), bstr(m.Signature))
	if !bytes.Equal(msg, want) {
		t.Errorf("Sign1 wrote\n%x\nwant\n%x", msg, want)
	}
}

// go-cose, signing the same headers its own way, must write the same bytes:
// the wire form is plain COSE, not a dialect.
func TestSign1MatchesGoCOSE(t *testing.T) {
	k := mustSigningKey(t)
	payload := []byte("payload")
	ours, err := crypto.Sign1(k, testContentType, payload)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := cose.NewSigner(cose.AlgorithmEdDSA, ed25519.NewKeyFromSeed(k.Seed()))
	if err != nil {
		t.Fatal(err)
	}
	headers := cose.Headers{
		Protected: cose.ProtectedHeader{
			cose.HeaderLabelAlgorithm:   cose.AlgorithmEdDSA,
			cose.HeaderLabelContentType: testContentType,
		},
		Unprotected: cose.UnprotectedHeader{},
	}
	theirs, err := cose.Sign1(rand.Reader, signer, headers, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Fatalf("Sign1 wrote\n%x\ngo-cose wrote\n%x", ours, theirs)
	}

	var decoded cose.Sign1Message
	if err := decoded.UnmarshalCBOR(ours); err != nil {
		t.Fatalf("go-cose cannot decode Sign1 output: %v", err)
	}
	verifier, err := cose.NewVerifier(cose.AlgorithmEdDSA, k.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := decoded.Verify(nil, verifier); err != nil {
		t.Errorf("go-cose does not verify Sign1 output: %v", err)
	}
}

func TestSign1Rejects(t *testing.T) {
	k := mustSigningKey(t)
	tests := []struct {
		name        string
		key         crypto.SigningKey
		contentType string
		payload     []byte
		sentinel    error // nil: no sentinel applies
		want        string
	}{
		{"zero key", crypto.SigningKey{}, testContentType, []byte("p"), nil, "zero key"},
		{"empty payload", k, testContentType, nil, crypto.ErrMalformed, "payload is empty"},
		{"empty content type", k, "", []byte("p"), crypto.ErrMalformed, "is not a media type"},
		{"content type not UTF-8", k, "text/\xff", []byte("p"), crypto.ErrMalformed, "is not a media type"},
		{"content type not a media type", k, "intent", []byte("p"), crypto.ErrMalformed, "is not a media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := crypto.Sign1(tt.key, tt.contentType, tt.payload)
			if err == nil {
				t.Fatalf("Sign1 = %x, want an error", msg)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not give the reason %q", err, tt.want)
			}
		})
	}
}

func TestSign1ContentTypes(t *testing.T) {
	k := mustSigningKey(t)
	name127 := strings.Repeat("x", 127)
	for _, ct := range []string{
		"application/vnd.intentcast.intent+cbor",
		"text/plain",
		"a/b",
		"Application/CBOR",
		"application/x-intentcast_v1.0!#$&^-",
		name127 + "/" + name127,
	} {
		if m := mustSign1(t, k, ct, []byte("p")); m.ContentType != ct {
			t.Errorf("content type %q came back as %q", ct, m.ContentType)
		}
	}
	for _, ct := range []string{"x" + name127 + "/b", "a/x" + name127, "-a/b", "a/.b", "a b/c"} {
		if _, err := crypto.Sign1(k, ct, []byte("p")); !errors.Is(err, crypto.ErrMalformed) {
			t.Errorf("Sign1 with content type %q = %v, want an error wrapping ErrMalformed", ct, err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	k := mustSigningKey(t)
	other := mustSigningKey(t)
	payload := []byte("offer: 250 EUR")
	// A signature by the same key over the same payload, for another kind of
	// message: the content type is signed, so it must not transfer.
	asOther := mustSign1(t, k, "application/vnd.intentcast.other", payload)

	tests := []struct {
		name   string
		key    ed25519.PublicKey
		tamper func(m *crypto.Sign1Message)
	}{
		{"wrong key", other.Public(), nil},
		{"flipped payload bit", k.Public(), func(m *crypto.Sign1Message) { m.Payload[0] ^= 1 }},
		{"flipped signature bit", k.Public(), func(m *crypto.Sign1Message) { m.Signature[10] ^= 0x80 }},
		{"flipped protected header bit", k.Public(), func(m *crypto.Sign1Message) { m.Protected[len(m.Protected)-1] ^= 1 }},
		{"signature over another content type", k.Public(), func(m *crypto.Sign1Message) { m.Signature = asOther.Signature }},
		{"signature truncated", k.Public(), func(m *crypto.Sign1Message) { m.Signature = m.Signature[:63] }},
		{"nil key", nil, nil},
		{"31-byte key", k.Public()[:31], nil},
		{"64-byte key (a private key)", ed25519.PublicKey(ed25519.NewKeyFromSeed(k.Seed())), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustSign1(t, k, testContentType, payload)
			if tt.tamper != nil {
				tt.tamper(m)
			}
			if err := m.Verify(tt.key); !errors.Is(err, crypto.ErrBadSignature) {
				t.Errorf("Verify = %v, want an error wrapping ErrBadSignature", err)
			}
		})
	}
}

// Ed25519 signatures are deterministic, so signing twice writes one message:
// its hash, the intent ID, depends only on key, content type and payload.
func TestSign1Deterministic(t *testing.T) {
	k := mustSigningKey(t)
	a, err := crypto.Sign1(k, testContentType, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := crypto.Sign1(k, testContentType, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two signatures over the same input differ:\n%x\n%x", a, b)
	}
}
