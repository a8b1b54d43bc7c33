package crypto_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/crypto"
)

func TestParseSign1Valid(t *testing.T) {
	m, err := crypto.ParseSign1(goodMessage)
	if err != nil {
		t.Fatalf("ParseSign1(well-formed message): %v", err)
	}
	if !bytes.Equal(m.Raw, goodMessage) {
		t.Errorf("Raw = %x, want the input %x", m.Raw, goodMessage)
	}
	if want := protected(testContentType); !bytes.Equal(m.Protected, want) {
		t.Errorf("Protected = %x, want %x", m.Protected, want)
	}
	if m.ContentType != testContentType {
		t.Errorf("ContentType = %q, want %q", m.ContentType, testContentType)
	}
	if string(m.Payload) != "hello" {
		t.Errorf("Payload = %q, want %q", m.Payload, "hello")
	}
	if want := bytes.Repeat([]byte{0x5a}, 64); !bytes.Equal(m.Signature, want) {
		t.Errorf("Signature = %x, want %x", m.Signature, want)
	}
}

func TestParseSign1DoesNotAliasInput(t *testing.T) {
	in := bytes.Clone(goodMessage)
	m, err := crypto.ParseSign1(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0
	}
	if !bytes.Equal(m.Raw, goodMessage) || string(m.Payload) != "hello" || m.ContentType != testContentType {
		t.Errorf("overwriting the input changed the parsed message: Raw %x, Payload %q", m.Raw, m.Payload)
	}
}

// ParseSign1Owned keeps the input itself: a gossip router's copy of a
// message is the only one a relay holds.
func TestParseSign1OwnedKeepsInput(t *testing.T) {
	in := bytes.Clone(goodMessage)
	m, err := crypto.ParseSign1Owned(in)
	if err != nil {
		t.Fatal(err)
	}
	if &m.Raw[0] != &in[0] || len(m.Raw) != len(in) {
		t.Errorf("Raw is not the input: a copy of %d bytes", len(m.Raw))
	}
	if string(m.Payload) != "hello" || m.ContentType != testContentType {
		t.Errorf("Payload %q, ContentType %q; want %q, %q", m.Payload, m.ContentType, "hello", testContentType)
	}
}

// A payload long enough for a two-byte length parses: lengths are checked
// for being shortest, not small.
func TestParseSign1LongPayload(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 70000)
	m, err := crypto.ParseSign1(sign1(goodProtected, goodUnprotected, bstr(payload), goodSignature))
	if err != nil {
		t.Fatalf("ParseSign1 with a %d-byte payload: %v", len(payload), err)
	}
	if !bytes.Equal(m.Payload, payload) {
		t.Errorf("payload of %d bytes came back as %d bytes", len(payload), len(m.Payload))
	}
}

func TestParseSign1Rejects(t *testing.T) {
	var (
		p   = goodProtected
		u   = goodUnprotected
		pl  = goodPayload
		sig = goodSignature
		alg = []byte{0x01, 0x27}
		ct  = cat([]byte{0x03}, tstr(testContentType))
	)
	tests := []struct {
		name string
		in   []byte
		want string // a fragment of the error message: the reason given
	}{
		{"empty input", nil, "input is empty"},
		{"no tag", goodMessage[1:], "first byte is 0x84"},
		{"tag 17 (COSE_Mac0)", cat([]byte{0xd1}, goodMessage[1:]), "first byte is 0xd1"},
		{"tag 18 in two-byte form", cat([]byte{0xd8, 0x12}, goodMessage[1:]), "first byte is 0xd8"},
		{"tag 18 twice", cat([]byte{0xd2}, goodMessage), "tag isn't allowed"},
		{"not an array", cat([]byte{0xd2}, pl), "tag 18 content is CBOR byte string, want CBOR array"},
		{"array of 3", sign1(p, u, pl), "array has 3 elements"},
		{"array of 5", sign1(p, u, pl, sig, sig), "array has 5 elements"},
		{"array of 17", sign1(p, u, pl, sig, sig, sig, sig, sig, sig, sig, sig, sig, sig, sig, sig, sig, sig), "max number of elements"},
		{"indefinite-length array", cat([]byte{0xd2, 0x9f}, p, u, pl, sig, []byte{0xff}), "indefinite-length array"},
		{"array length not shortest", cat([]byte{0xd2, 0x98, 0x04}, p, u, pl, sig), "encodes 4 in 2 bytes, not in its shortest form"},
		{"trailing byte", cat(goodMessage, []byte{0x00}), "1 bytes of extraneous data"},
		{"truncated", goodMessage[:len(goodMessage)-1], "unexpected EOF"},

		{"protected is a map, not a byte string", sign1(protected(testContentType), u, pl, sig), "protected header is CBOR map"},
		{"protected is empty", sign1(bstr(nil), u, pl, sig), "decode protected header"},
		{"protected is the empty map", sign1(bstr([]byte{0xa0}), u, pl, sig), "labels [], want"},
		{"protected is not a map", sign1(bstr(tstr("EdDSA")), u, pl, sig), "cannot unmarshal UTF-8 text string"},
		{"protected keys out of order", sign1(bstr(cat([]byte{0xa2}, ct, alg)), u, pl, sig), "protected header is not in canonical encoding"},
		{"protected map length not shortest", sign1(bstr(cat([]byte{0xb8, 0x02}, alg, ct)), u, pl, sig), "protected header is not in canonical encoding"},
		{"protected extra label (kid)", sign1(bstr(cat([]byte{0xa3}, alg, ct, []byte{0x04}, bstr([]byte("kid")))), u, pl, sig), "labels [1 3 4]"},
		{"protected without content type", sign1(bstr(cat([]byte{0xa1}, alg)), u, pl, sig), "labels [1]"},
		{"protected without alg", sign1(bstr(cat([]byte{0xa1}, ct)), u, pl, sig), "labels [3]"},
		{"protected duplicate alg", sign1(bstr(cat([]byte{0xa3}, alg, alg, ct)), u, pl, sig), "duplicate map key 1"},
		{"protected duplicate content type", sign1(bstr(cat([]byte{0xa3}, alg, ct, ct)), u, pl, sig), "duplicate map key 3"},
		{"protected text label", sign1(bstr(cat([]byte{0xa2}, alg, tstr("3"), tstr(testContentType))), u, pl, sig), "decode protected header"},
		{"protected trailing byte", sign1(bstr(cat(protected(testContentType), []byte{0x00})), u, pl, sig), "extraneous data"},
		{"protected holds a tag", sign1(bstr(cat([]byte{0xa2}, alg, []byte{0x03, 0xd8, 0x20}, tstr("https://x"))), u, pl, sig), "tag isn't allowed"},
		{"alg -7 (ES256)", sign1(bstr(cat([]byte{0xa2, 0x01, 0x26}, ct)), u, pl, sig), "alg is -7, want -8"},
		{"alg as text", sign1(bstr(cat([]byte{0xa2, 0x01}, tstr("EdDSA"), ct)), u, pl, sig), "decode protected header alg"},
		{"alg not shortest", sign1(bstr(cat([]byte{0xa2, 0x01, 0x38, 0x07}, ct)), u, pl, sig), "protected header is not in canonical encoding"},
		{"label not shortest", sign1(bstr(cat([]byte{0xa2, 0x18, 0x01, 0x27}, ct)), u, pl, sig), "protected header is not in canonical encoding"},
		{"content type as uint (CoAP format)", sign1(bstr(cat([]byte{0xa2}, alg, []byte{0x03, 0x18, 0x3c})), u, pl, sig), "content type is CBOR unsigned integer"},
		{"content type empty", sign1(bstr(protected("")), u, pl, sig), "content type \"\" is not a media type"},
		{"content type without slash", sign1(bstr(protected("intent")), u, pl, sig), "is not a media type"},
		{"content type with two slashes", sign1(bstr(protected("application/x/y")), u, pl, sig), "is not a media type"},
		{"content type with empty subtype", sign1(bstr(protected("application/")), u, pl, sig), "is not a media type"},
		{"content type with leading space", sign1(bstr(protected(" application/x")), u, pl, sig), "is not a media type"},
		{"content type with parameters", sign1(bstr(protected("text/plain; charset=utf-8")), u, pl, sig), "is not a media type"},
		{"content type not ASCII", sign1(bstr(protected("application/intentcast-é")), u, pl, sig), "is not a media type"},
		{"content type subtype starts with a symbol", sign1(bstr(protected("application/+cbor")), u, pl, sig), "is not a media type"},
		{"content type invalid UTF-8", sign1(bstr(cat([]byte{0xa2}, alg, []byte{0x03, 0x63, 0xff, 0xfe, 0xfd})), u, pl, sig), "invalid UTF-8"},
		{"content type indefinite length", sign1(bstr(cat([]byte{0xa2}, alg, []byte{0x03, 0x7f}, tstr("a"), []byte{0xff})), u, pl, sig), "indefinite-length UTF-8 text string"},
		{"content type length not shortest", sign1(bstr(cat([]byte{0xa2}, alg, []byte{0x03, 0x78, 0x03}, []byte("a/b"))), u, pl, sig), "protected header is not in canonical encoding"},
		{"protected length not shortest", sign1(cat([]byte{0x59, 0x00, byte(len(protected(testContentType)))}, protected(testContentType)), u, pl, sig), "protected header head encodes 37 in 3 bytes"},

		{"unprotected not empty", sign1(p, cat([]byte{0xa1, 0x04}, bstr([]byte("kid"))), pl, sig), "unprotected header starts 0xa1 (CBOR map)"},
		{"unprotected is a byte string", sign1(p, bstr(nil), pl, sig), "unprotected header starts 0x40 (CBOR byte string)"},
		{"unprotected empty map not shortest", sign1(p, []byte{0xb8, 0x00}, pl, sig), "unprotected header starts 0xb8 (CBOR map)"},
		{"unprotected indefinite-length map", sign1(p, []byte{0xbf, 0xff}, pl, sig), "indefinite-length map"},

		{"payload as text", sign1(p, u, tstr("hello"), sig), "payload is CBOR text string, want CBOR byte string"},
		{"payload nil (detached)", sign1(p, u, []byte{0xf6}, sig), "payload is CBOR simple value or float"},
		{"payload empty", sign1(p, u, bstr(nil), sig), "payload is empty"},
		{"payload indefinite length", sign1(p, u, cat([]byte{0x5f}, bstr([]byte("hel")), bstr([]byte("lo")), []byte{0xff}), sig), "indefinite-length byte string"},
		{"payload tagged", sign1(p, u, cat([]byte{0xd8, 0x18}, pl), sig), "tag isn't allowed"},
		{"payload length not shortest", sign1(p, u, cat([]byte{0x58, 0x05}, []byte("hello")), sig), "payload head encodes 5 in 2 bytes"},

		{"signature 63 bytes", sign1(p, u, pl, bstr(make([]byte, 63))), "signature is 63 bytes, want 64"},
		{"signature 65 bytes", sign1(p, u, pl, bstr(make([]byte, 65))), "signature is 65 bytes, want 64"},
		{"signature empty", sign1(p, u, pl, bstr(nil)), "signature is 0 bytes, want 64"},
		{"signature as text", sign1(p, u, pl, tstr(strings.Repeat("s", 64))), "signature is CBOR text string"},
		{"signature length not shortest", sign1(p, u, pl, cat([]byte{0x59, 0x00, 0x40}, make([]byte, 64))), "signature head encodes 64 in 3 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := crypto.ParseSign1(tt.in)
			if !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("ParseSign1(%x) = %v, %v; want an error wrapping ErrMalformed", tt.in, m, err)
			}
			if m != nil {
				t.Errorf("ParseSign1 returned a message along with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not give the reason %q", err, tt.want)
			}
		})
	}
}
