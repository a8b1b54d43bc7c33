package crypto

import (
	"bytes"
	"testing"
)

// TestProtectedFast: the fast path of parseProtected takes exactly the
// canonical headers, and returns what the full decode would.
func TestProtectedFast(t *testing.T) {
	for _, ct := range []string{"a/b", "application/vnd.intentcast.intent+cbor", string(bytes.Repeat([]byte("x"), 127)) + "/" + string(bytes.Repeat([]byte("y"), 127))} {
		b, err := encodeProtected(ct)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := protectedFast(b)
		if !ok || got != ct {
			t.Errorf("protectedFast(canonical header of %q) = %q, %v", ct, got, ok)
		}
	}
	for name, b := range map[string][]byte{
		"length not shortest": []byte("\xa2\x01\x27\x03\x78\x03a/b"),
		"two-byte length":     []byte("\xa2\x01\x27\x03\x79\x00\x03a/b"),
		"other alg":           []byte("\xa2\x01\x26\x03\x63a/b"),
		"keys swapped":        []byte("\xa2\x03\x63a/b\x01\x27"),
		"trailing byte":       []byte("\xa2\x01\x27\x03\x63a/b\x00"),
		"truncated":           []byte("\xa2\x01\x27\x03\x63a/"),
		"bad content type":    []byte("\xa2\x01\x27\x03\x63a b"),
		"byte string":         []byte("\xa2\x01\x27\x03\x43a/b"),
		"no content type":     []byte("\xa2\x01\x27\x03"),
	} {
		if ct, ok := protectedFast(b); ok {
			t.Errorf("%s: protectedFast(%x) = %q, want the full decode to judge it", name, b, ct)
		}
	}
}
