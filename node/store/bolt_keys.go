package store

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"
)

// stampLen is the size of an encoded time: the Unix seconds as a big-endian
// uint64 with the sign bit flipped, then the nanoseconds as a big-endian
// uint32. Byte order is then time order for every instant a time.Time can
// hold (the zero time included, which UnixNano could not represent), so the
// same bytes serve as index keys and as record fields.
const stampLen = 12

// appendStamp appends the stampLen-byte encoding of t to dst.
func appendStamp(dst []byte, t time.Time) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t.Unix())^(1<<63))
	return binary.BigEndian.AppendUint32(dst, uint32(t.Nanosecond()))
}

// parseStamp decodes appendStamp's encoding. Times come back in UTC.
func parseStamp(b []byte) (time.Time, error) {
	if len(b) != stampLen {
		return time.Time{}, fmt.Errorf("time field is %d bytes, want %d", len(b), stampLen)
	}
	sec := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	nsec := binary.BigEndian.Uint32(b[8:])
	if nsec >= uint32(time.Second) {
		return time.Time{}, fmt.Errorf("time field has %d nanoseconds, over one second", nsec)
	}
	return time.Unix(sec, int64(nsec)).UTC(), nil
}

// appendText appends s with a uvarint length prefix, so that a text key part
// is never a prefix of a different one ("home" vs "homes") and no byte value
// needs reserving as a separator.
func appendText(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// parseID converts a stored 32-byte field back to an ID.
func parseID(b []byte) (ID, error) {
	if len(b) != len(ID{}) {
		return ID{}, fmt.Errorf("ID field is %d bytes, want %d", len(b), len(ID{}))
	}
	return ID(b), nil
}

// keyID returns the ID that ends every index key.
func keyID(k []byte) (ID, error) {
	if len(k) < len(ID{}) {
		return ID{}, fmt.Errorf("index key %x is too short to end with an ID", k)
	}
	return ID(k[len(k)-len(ID{}):]), nil
}

// shortID names a record in error messages: 8 bytes of hex are unique enough
// to find it and short enough to read.
func shortID(id ID) string { return hex.EncodeToString(id[:8]) }
