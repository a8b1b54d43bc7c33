package crypto

import "encoding/binary"

// CBOR major types used by the wire form.
const (
	majorByteString = 2
	majorTextString = 3
	majorArray      = 4
)

// headReader walks CBOR items that strictDec.Wellformed has already
// accepted, reading each head and refusing one not in its shortest form: the
// only freedom well-formed definite-length CBOR leaves in how an item is
// written. It slices its input and allocates nothing.
type headReader struct {
	b []byte
}

// head reads the head of the next item, which must be of major type want,
// and returns its argument (a length, for strings and arrays).
func (r *headReader) head(want byte, what string) (uint64, error) {
	if len(r.b) == 0 {
		return 0, malformed("%s is missing", what)
	}
	initial := r.b[0]
	if major := initial >> 5; major != want {
		return 0, malformed("%s is CBOR %s, want CBOR %s", what, majorType(initial), majorType(want<<5))
	}
	var arg, min uint64
	size := 1
	switch info := initial & 0x1f; {
	case info < 24:
		arg = uint64(info)
	case info == 24:
		size, min = 2, 24
	case info == 25:
		size, min = 3, 1<<8
	case info == 26:
		size, min = 5, 1<<16
	case info == 27:
		size, min = 9, 1<<32
	default: // indefinite length or reserved; Wellformed has refused both
		return 0, malformed("%s has additional information %d, which has no definite length", what, info)
	}
	if len(r.b) < size {
		return 0, malformed("%s head is truncated", what)
	}
	switch size {
	case 2:
		arg = uint64(r.b[1])
	case 3:
		arg = uint64(binary.BigEndian.Uint16(r.b[1:]))
	case 5:
		arg = uint64(binary.BigEndian.Uint32(r.b[1:]))
	case 9:
		arg = binary.BigEndian.Uint64(r.b[1:])
	}
	if arg < min {
		return 0, malformed("%s head encodes %d in %d bytes, not in its shortest form", what, arg, size)
	}
	r.b = r.b[size:]
	return arg, nil
}

// byteString reads a byte string and returns its content, a slice of the
// input.
func (r *headReader) byteString(what string) ([]byte, error) {
	n, err := r.head(majorByteString, what)
	if err != nil {
		return nil, err
	}
	if uint64(len(r.b)) < n {
		return nil, malformed("%s is %d bytes, but only %d remain", what, n, len(r.b))
	}
	content := r.b[:n:n]
	r.b = r.b[n:]
	return content, nil
}

// bstrHeadMax is the longest head of a CBOR byte string: the initial byte
// and an 8-byte length.
const bstrHeadMax = 9

// appendBstrHead appends the shortest-form head of a byte string of n bytes.
func appendBstrHead(b []byte, n int) []byte {
	const bstr = majorByteString << 5
	switch {
	case n < 24:
		return append(b, bstr|byte(n))
	case n <= 0xff:
		return append(b, bstr|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, bstr|25), uint16(n))
	case uint64(n) <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, bstr|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, bstr|27), uint64(n))
	}
}
