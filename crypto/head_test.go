package crypto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// ParseSign1 only hands headReader input that Wellformed accepted; these
// cases check that it stays safe on input that skipped that check.
func TestHeadReaderRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "is missing"},
		{"wrong major type", []byte{0x60}, "is CBOR text string, want CBOR byte string"},
		{"one-byte length missing", []byte{0x58}, "head is truncated"},
		{"two-byte length cut short", []byte{0x59, 0x01}, "head is truncated"},
		{"four-byte length cut short", []byte{0x5a, 0, 0, 1}, "head is truncated"},
		{"eight-byte length cut short", []byte{0x5b, 0, 0, 0, 0, 0, 0, 1}, "head is truncated"},
		{"reserved additional information", []byte{0x5c}, "additional information 28"},
		{"indefinite length", []byte{0x5f, 0x41, 0x00, 0xff}, "additional information 31"},
		{"content cut short", []byte{0x43, 1, 2}, "is 3 bytes, but only 2 remain"},
		{"length beyond memory", []byte{0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "but only 0 remain"},
		{"two-byte length under 256", []byte{0x59, 0x00, 0xff}, "encodes 255 in 3 bytes"},
		{"four-byte length under 65536", []byte{0x5a, 0x00, 0x00, 0xff, 0xff}, "encodes 65535 in 5 bytes"},
		{"eight-byte length under 2^32", []byte{0x5b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, "encodes 4294967295 in 9 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := headReader{b: tt.in}
			b, err := r.byteString("item")
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("byteString(%x) = %x, %v; want an ErrMalformed error saying %q", tt.in, b, err, tt.want)
			}
		})
	}
}

func TestHeadReaderReadsShortestForms(t *testing.T) {
	for _, n := range []int{0, 23, 24, 255, 256, 65535, 65536} {
		enc, err := canonicalEnc.Marshal(make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		r := headReader{b: enc}
		b, err := r.byteString("item")
		if err != nil || len(b) != n || len(r.b) != 0 {
			t.Errorf("byteString of a %d-byte string = %d bytes, %d left over, %v", n, len(b), len(r.b), err)
		}
	}
}

func TestAppendBstrHeadIsShortest(t *testing.T) {
	for _, n := range []int{0, 23, 24, 255, 256, 65535, 65536} {
		enc, err := canonicalEnc.Marshal(make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		if head := appendBstrHead(nil, n); !bytes.Equal(head, enc[:len(enc)-n]) {
			t.Errorf("appendBstrHead(%d) = %x, want %x", n, head, enc[:len(enc)-n])
		}
	}
	// Too long to marshal here: the head of a 2^32-byte string.
	if head, want := appendBstrHead(nil, 1<<32), []byte{0x5b, 0, 0, 0, 1, 0, 0, 0, 0}; !bytes.Equal(head, want) {
		t.Errorf("appendBstrHead(2^32) = %x, want %x", head, want)
	}
}
