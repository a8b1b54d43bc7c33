package crypto

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// The wire form of a COSE_Sign1 message, the only one this package writes
// or accepts:
//
//	d2                  tag 18, COSE_Sign1_Tagged
//	84                  array of 4
//	   bstr             protected header: canonical {1: -8, 3: content type}
//	   a0               unprotected header: the empty map
//	   bstr             payload, non-empty
//	   58 40 <64 bytes> Ed25519 signature
//
// Everything is in RFC 8949 core deterministic encoding, so a message has
// exactly one encoding and its hash is a stable ID.
const (
	tagSign1          = 18
	headerAlg         = 1  // COSE header label "alg"
	headerContentType = 3  // COSE header label "content type"
	algEdDSA          = -8 // COSE algorithm EdDSA
)

// tagSign1Byte is tag 18 in its only (one-byte) canonical form.
const tagSign1Byte = 0xc0 | tagSign1

// emptyMap is the canonical encoding of {}, the only unprotected header
// accepted: nothing unauthenticated rides along with a signed message.
var emptyMap = []byte{0xa0}

// protectedHeader is the protected header's content; as a struct with
// integer keys it encodes in canonical key order.
type protectedHeader struct {
	Alg         int64  `cbor:"1,keyasint"`
	ContentType string `cbor:"3,keyasint"`
}

// sign1Array is the COSE_Sign1 array.
type sign1Array struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

// canonicalEnc encodes in RFC 8949 core deterministic encoding.
var canonicalEnc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic("crypto: core deterministic CBOR options rejected: " + err.Error())
	}
	return em
}()

// strictDec refuses everything the wire form never contains: indefinite
// lengths, tags (tag 18 is checked and skipped by hand first), deep nesting
// and large containers, all in its Wellformed pass over the whole message;
// then duplicate map keys and invalid UTF-8 as the protected header is
// decoded.
var strictDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		UTF8:             cbor.UTF8RejectInvalid,
		MaxNestedLevels:  4,  // the library minimum; the wire form needs 2
		MaxArrayElements: 16, // the library minimum; the wire form needs 4
		MaxMapPairs:      16, // the library minimum; the wire form needs 2
	}.DecMode()
	if err != nil {
		panic("crypto: strict CBOR decoding options rejected: " + err.Error())
	}
	return dm
}()

// encodeProtected returns the canonical protected header for contentType.
func encodeProtected(contentType string) ([]byte, error) {
	b, err := canonicalEnc.Marshal(protectedHeader{Alg: algEdDSA, ContentType: contentType})
	if err != nil {
		return nil, fmt.Errorf("encode COSE protected header: %w", err)
	}
	return b, nil
}

// encodeSign1 returns the canonical COSE_Sign1_Tagged message for its parts.
func encodeSign1(protected, payload, signature []byte) ([]byte, error) {
	b, err := canonicalEnc.Marshal(cbor.Tag{
		Number: tagSign1,
		Content: sign1Array{
			Protected:   protected,
			Unprotected: emptyMap,
			Payload:     payload,
			Signature:   signature,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode COSE_Sign1 message: %w", err)
	}
	return b, nil
}

// wrapBstr returns b encoded as a CBOR byte string: go-cose wants the
// protected header as the bstr item it is on the wire, not its content.
func wrapBstr(b []byte) ([]byte, error) {
	w, err := canonicalEnc.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode COSE protected header as byte string: %w", err)
	}
	return w, nil
}
