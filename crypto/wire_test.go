package crypto_test

import (
	"bytes"
	"encoding/binary"
)

// A hand encoder for CBOR, independent of the one under test, to build both
// valid messages and every kind of bad one.

// head returns a CBOR item head in its shortest form.
func head(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func bstr(b []byte) []byte   { return cat(head(2, uint64(len(b))), b) }
func tstr(s string) []byte   { return cat(head(3, uint64(len(s))), []byte(s)) }
func cat(p ...[]byte) []byte { return bytes.Join(p, nil) }

// sign1 assembles tag 18 and an array of already-encoded items.
func sign1(items ...[]byte) []byte {
	return cat(append([][]byte{{0xd2}, head(4, uint64(len(items)))}, items...)...)
}

// protected returns the canonical protected header content for contentType.
func protected(contentType string) []byte {
	return cat([]byte{0xa2, 0x01, 0x27, 0x03}, tstr(contentType)) // {1: -8, 3: contentType}
}

const testContentType = "application/vnd.intentcast.test"

// The parts of a well-formed message (its signature verifies under no key).
var (
	goodProtected   = bstr(protected(testContentType))
	goodUnprotected = []byte{0xa0}
	goodPayload     = bstr([]byte("hello"))
	goodSignature   = bstr(bytes.Repeat([]byte{0x5a}, 64))
	goodMessage     = sign1(goodProtected, goodUnprotected, goodPayload, goodSignature)
)
