package crypto

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"

	"github.com/fxamacker/cbor/v2"
)

// Sign1Message is a COSE_Sign1 message accepted by ParseSign1. Its fields do
// not alias the parsed input (ParseSign1Owned's do); Protected, Payload and
// Signature are slices of Raw.
type Sign1Message struct {
	Raw         []byte // the whole message, byte-identical to what was parsed
	Protected   []byte // the protected header's bytes (the content of its bstr)
	ContentType string
	Payload     []byte
	Signature   []byte
}

// ParseSign1 parses a COSE_Sign1_Tagged message in the package's wire form
// and nothing else: tag 18 in its one-byte form; an array of exactly 4; a
// protected header that is exactly the canonical encoding of {1: -8, 3: tstr}
// (EdDSA and a media type such as "application/vnd.intentcast.intent+cbor",
// without parameters); the empty map as unprotected header; a non-empty byte
// string payload; a 64-byte signature; no indefinite lengths, other tags or
// trailing bytes. The input must equal the canonical
// re-encoding of its parts, so one message has exactly one encoding.
//
// ParseSign1 does not check the signature; see Sign1Message.Verify. Every
// error wraps ErrMalformed. Callers bound the input size; ParseSign1 checks
// the whole input before it allocates, then copies it once, and beyond that
// allocates only to decode the protected header (a few hundred bytes). No
// length claimed inside the input makes it allocate more.
func ParseSign1(data []byte) (*Sign1Message, error) {
	return parseSign1(data, true)
}

// ParseSign1Owned is ParseSign1 of a buffer the caller hands over: the
// message's Raw is data itself rather than a copy, so nothing may write data
// while the message is in use. A message a gossip router received, which
// nothing writes, is parsed this way: a relay copies nothing it keeps.
func ParseSign1Owned(data []byte) (*Sign1Message, error) {
	return parseSign1(data, false)
}

// parseSign1 is ParseSign1 if copied, else ParseSign1Owned.
func parseSign1(data []byte, copied bool) (*Sign1Message, error) {
	if len(data) == 0 {
		return nil, malformed("input is empty")
	}
	if data[0] != tagSign1Byte {
		return nil, malformed("first byte is 0x%02x, want 0x%02x (tag 18, COSE_Sign1_Tagged)", data[0], tagSign1Byte)
	}
	// One pass over the whole input with the strict options refuses, before
	// anything is allocated, indefinite lengths, other tags, deep nesting,
	// large containers, truncation and trailing bytes.
	if err := strictDec.Wellformed(data[1:]); err != nil {
		return nil, malformed("after tag 18: %v", err)
	}
	// Copy once, if at all; every part is a slice of raw.
	raw := data
	if copied {
		raw = bytes.Clone(data)
	}
	r := headReader{b: raw[1:]}
	n, err := r.head(majorArray, "tag 18 content")
	if err != nil {
		return nil, err
	}
	if n != 4 {
		return nil, malformed("array has %d elements, want 4 (protected, unprotected, payload, signature)", n)
	}
	protected, err := r.byteString("protected header")
	if err != nil {
		return nil, err
	}
	contentType, err := parseProtected(protected)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(r.b, emptyMap) {
		return nil, malformed("unprotected header starts 0x%02x (CBOR %s), want the empty map (0xa0)", r.b[0], majorType(r.b[0]))
	}
	r.b = r.b[len(emptyMap):]
	payload, err := r.byteString("payload")
	if err != nil {
		return nil, err
	}
	if len(payload) == 0 {
		return nil, malformed("payload is empty")
	}
	signature, err := r.byteString("signature")
	if err != nil {
		return nil, err
	}
	if len(signature) != ed25519.SignatureSize {
		return nil, malformed("signature is %d bytes, want %d", len(signature), ed25519.SignatureSize)
	}
	if len(r.b) != 0 { // Wellformed saw one item of 4 elements, all read
		return nil, malformed("%d bytes after the signature", len(r.b))
	}
	// Every head was read and is in shortest form, and there is nothing else
	// in the input: it is the canonical encoding of its parts.
	return &Sign1Message{
		Raw:         raw,
		Protected:   protected,
		ContentType: contentType,
		Payload:     payload,
		Signature:   signature,
	}, nil
}

// parseProtected checks the protected header and returns its content type.
func parseProtected(b []byte) (string, error) {
	if ct, ok := protectedFast(b); ok {
		return ct, nil
	}
	var labels map[int64]cbor.RawMessage
	if err := strictDec.Unmarshal(b, &labels); err != nil {
		return "", malformed("decode protected header: %v", err)
	}
	_, hasAlg := labels[headerAlg]
	rawContentType, hasContentType := labels[headerContentType]
	if len(labels) != 2 || !hasAlg || !hasContentType {
		return "", malformed("protected header has labels %v, want exactly [1 3] (alg, content type)",
			slices.Sorted(maps.Keys(labels)))
	}
	var alg int64
	if err := strictDec.Unmarshal(labels[headerAlg], &alg); err != nil {
		return "", malformed("decode protected header alg: %v", err)
	}
	if alg != algEdDSA {
		return "", malformed("protected header alg is %d, want %d (EdDSA)", alg, algEdDSA)
	}
	if rawContentType[0]>>5 != majorTextString {
		return "", malformed("protected header content type is CBOR %s, want a text string", majorType(rawContentType[0]))
	}
	var contentType string
	if err := strictDec.Unmarshal(rawContentType, &contentType); err != nil {
		return "", malformed("decode protected header content type: %v", err)
	}
	if err := checkContentType(contentType); err != nil {
		return "", fmt.Errorf("parse COSE_Sign1: protected header %w", err)
	}
	canonical, err := encodeProtected(contentType)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(canonical, b) {
		return "", malformed("protected header is not in canonical encoding (key order or an integer or length not in shortest form)")
	}
	return contentType, nil
}

// protectedFast reads a protected header that is byte for byte the
// canonical encoding of {1: -8, 3: content type} with a valid content type:
// a2 01 27 03, then the text string's head in shortest form and its bytes.
// Every header parseProtected accepts has that form (encodeProtected makes
// it); for anything else ok is false and parseProtected's full decode says
// what is wrong.
func protectedFast(b []byte) (contentType string, ok bool) {
	const prefix = "\xa2\x01\x27\x03"
	if len(b) < len(prefix)+1 || string(b[:len(prefix)]) != prefix {
		return "", false
	}
	rest := b[len(prefix):]
	var n int
	switch h := rest[0]; {
	case h >= 0x60 && h < 0x60+24:
		n, rest = int(h-0x60), rest[1:]
	case h == 0x78 && len(rest) > 1 && rest[1] >= 24:
		n, rest = int(rest[1]), rest[2:]
	default: // longer than checkContentType allows, or not a text string
		return "", false
	}
	if len(rest) != n {
		return "", false
	}
	contentType = string(rest)
	if checkContentType(contentType) != nil {
		return "", false
	}
	return contentType, true
}

// majorType names the CBOR major type of an item from its initial byte.
func majorType(initial byte) string {
	return [...]string{
		"unsigned integer", "negative integer", "byte string", "text string",
		"array", "map", "tag", "simple value or float",
	}[initial>>5]
}

// malformed returns a parse error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("parse COSE_Sign1: %s: %w", fmt.Sprintf(format, args...), ErrMalformed)
}
