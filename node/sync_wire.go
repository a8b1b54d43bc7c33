package node

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/intentcast/intentcast/intent"
)

// The frames of /intentcast/sync/1, /2 and /3 (docs/PROTOCOL.md,
// "Late-joiner sync", "Store-and-forward sync" and "Sync versions").
// Every frame is an unsigned varint length followed by that many bytes of
// canonical CBOR: a map with small integer keys, decoded as strictly as the
// wire messages it carries (and refused when its re-encoding differs).

// Bounds of the protocol. Both sides enforce every one of them.
const (
	// syncMaxIDs bounds the ID prefixes of one request (live and
	// tombstoned together); a requester that knows more splits the ID space
	// into ranges and asks once per range.
	syncMaxIDs = 4096
	// syncMaxItems and syncMaxResponse bound one response (the frames
	// answering one request, End included): messages, and bytes with
	// their length prefixes.
	syncMaxItems    = 4096
	syncMaxResponse = 8 << 20
	// syncMaxRounds and syncMaxSession bound one stream: requests, and
	// bytes the responder writes.
	syncMaxRounds  = 64
	syncMaxSession = 32 << 20

	// syncMaxRequestFrame is the largest request: syncMaxIDs prefixes of 8
	// bytes plus the keys, the category and two range bounds.
	syncMaxRequestFrame = syncMaxIDs*syncPrefixLen + 128
	// syncMaxItemFrame is the largest response frame of /1: a tombstone
	// with its intent, plus the keys. Of /2, syncMaxItemFrame2: a tombstone
	// holding an accept, with its intent. /3's is syncMaxRatingFrame.
	syncMaxItemFrame  = intent.MaxIntentSize + intent.MaxCancelSize + 64
	syncMaxItemFrame2 = intent.MaxIntentSize + intent.MaxAcceptSize + 64

	syncPrefixLen = 8
)

// Kinds of response frame.
const (
	syncKindIntent    = 1 // Msg is a live intent
	syncKindTombstone = 2 // Msg is a cancel (from /2 also an accept); Intent, if set, the intent it closes
	syncKindEnd       = 3 // the response to one request is complete
	syncKindOffer     = 4 // from /2: Msg is a sealed offer to a live intent
)

// The sets a request asks for (key 5, from /2); sets 2 to 4 are in
// sync_ratings.go.
const (
	syncSetIntents = 0 // live intents and tombstones, by intent ID
	syncSetOffers  = 1 // sealed offers to live intents, by offer ID
)

// setsOf is the number of sets a version carries: sets 0 to setsOf-1. A
// responder answers a request for any other set with End alone, as for a
// set it holds nothing of: a requester that asks more than the version
// carries is not dropped, and the request still takes one of the
// session's rounds, so it costs the responder no more than any other.
func setsOf(version int) uint {
	switch version {
	case 1:
		return 1 // intents
	case 2:
		return 2 // and offers
	}
	return 5 // and ratings, replies and profiles
}

// maxItemFrame is the largest response frame of a version.
func maxItemFrame(version int) int {
	switch version {
	case 1:
		return syncMaxItemFrame
	case 2:
		return syncMaxItemFrame2
	}
	return max(syncMaxItemFrame2, syncMaxRatingFrame)
}

// syncRequest asks for what the requester lacks of one category, in the
// range [From, To) of 8-byte ID prefixes (big-endian; To 0 means the end of
// the ID space). Live and Tombs are the prefixes of the intent IDs the
// requester holds as live intents and as tombstones in that range,
// concatenated, strictly ascending.
type syncRequest struct {
	Category string `cbor:"0,keyasint"`
	From     uint64 `cbor:"1,keyasint,omitempty"`
	To       uint64 `cbor:"2,keyasint,omitempty"`
	Live     []byte `cbor:"3,keyasint,omitempty"`
	Tombs    []byte `cbor:"4,keyasint,omitempty"`
	Set      uint   `cbor:"5,keyasint,omitempty"` // from /2
}

// syncFrame is one frame of a response.
type syncFrame struct {
	Kind   uint   `cbor:"0,keyasint"`
	Msg    []byte `cbor:"1,keyasint,omitempty"`
	Intent []byte `cbor:"2,keyasint,omitempty"`
	Next   uint64 `cbor:"3,keyasint,omitempty"` // End with More: ask again from here
	More   bool   `cbor:"4,keyasint,omitempty"` // End: a bound cut the response short
}

// errSyncViolation marks what an honest peer never sends: the peer is
// dropped from sync for a while.
var errSyncViolation = errors.New("sync protocol violation")

// errSyncFrameTooLarge is a length prefix over the bound of its frame.
var errSyncFrameTooLarge = fmt.Errorf("%w: frame too large", errSyncViolation)

// decodeSyncCBOR decodes a frame into v with the codec of the messages it
// carries (intent.UnmarshalCanonical: strict, and refused when its
// re-encoding differs); frames are flat maps of at most 5 pairs, well
// inside its bounds.
func decodeSyncCBOR(data []byte, v any) error {
	if err := intent.UnmarshalCanonical(data, v, "frame"); err != nil {
		return fmt.Errorf("%w: %w", errSyncViolation, err)
	}
	return nil
}

// appendFrame appends v as a length-prefixed frame.
func appendFrame(dst []byte, v any) ([]byte, error) {
	body, err := intent.Marshal(v)
	if err != nil {
		return dst, err
	}
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...), nil
}

// readFrame reads one length-prefixed frame of at most max bytes (the
// prefix not counted) and returns it and the bytes it took on the wire. A
// prefix over max is refused before anything is allocated.
func readFrame(r *bufio.Reader, max int) ([]byte, int, error) {
	n, err := readLength(r)
	if err != nil {
		return nil, 0, err
	}
	if n > uint64(max) {
		return nil, 0, fmt.Errorf("%w: %d bytes, at most %d", errSyncFrameTooLarge, n, max)
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%w: empty frame", errSyncViolation)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, 0, noEOF(err)
	}
	return buf, uvarintLen(n) + int(n), nil
}

// readLength reads an unsigned varint (LEB128, as multiformats/unsigned-varint:
// minimal, at most 9 bytes). io.EOF means the stream ended between frames.
func readLength(r *bufio.Reader) (uint64, error) {
	var n uint64
	for i := 0; ; i++ {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 {
				return 0, noEOF(err)
			}
			return 0, err
		}
		if i == 8 && b >= 0x80 || i > 0 && b == 0 {
			return 0, fmt.Errorf("%w: bad length prefix", errSyncViolation)
		}
		n |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return n, nil
		}
	}
}

// noEOF turns an end of stream inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func uvarintLen(n uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], n)
}

// prefixOf is the 8-byte prefix of an ID as a number, so that the order of
// prefixes is the bytewise order of IDs.
func prefixOf(id intent.ID) uint64 { return binary.BigEndian.Uint64(id[:syncPrefixLen]) }

// inRange reports whether p is in [from, to), to 0 meaning no upper bound.
func inRange(p, from, to uint64) bool { return p >= from && (to == 0 || p < to) }

// packPrefixes concatenates prefixes (ascending) into a byte string.
func packPrefixes(ps []uint64) []byte {
	if len(ps) == 0 {
		return nil
	}
	out := make([]byte, 0, len(ps)*syncPrefixLen)
	for _, p := range ps {
		out = binary.BigEndian.AppendUint64(out, p)
	}
	return out
}

// unpackPrefixes splits a byte string of prefixes, checking that they are
// strictly ascending and in [from, to).
func unpackPrefixes(b []byte, from, to uint64) ([]uint64, error) {
	if len(b)%syncPrefixLen != 0 {
		return nil, fmt.Errorf("%w: prefix list of %d bytes is not a multiple of %d", errSyncViolation, len(b), syncPrefixLen)
	}
	out := make([]uint64, 0, len(b)/syncPrefixLen)
	for i := 0; i < len(b); i += syncPrefixLen {
		p := binary.BigEndian.Uint64(b[i:])
		if !inRange(p, from, to) || (len(out) > 0 && p <= out[len(out)-1]) {
			return nil, fmt.Errorf("%w: prefix list not strictly ascending within the range", errSyncViolation)
		}
		out = append(out, p)
	}
	return out, nil
}

// parsedRequest is a request that passed checkRequest.
type parsedRequest struct {
	syncRequest
	live, tombs []uint64
}

func (r *parsedRequest) hasLive(p uint64) bool { _, ok := slices.BinarySearch(r.live, p); return ok }
func (r *parsedRequest) hasTomb(p uint64) bool { _, ok := slices.BinarySearch(r.tombs, p); return ok }

// parseRequest decodes and checks a request frame of a version.
func parseRequest(data []byte, version int) (*parsedRequest, error) {
	var r parsedRequest
	if err := decodeSyncCBOR(data, &r.syncRequest); err != nil {
		return nil, err
	}
	// A set the version does not carry is no violation (setsOf); what
	// its keys 3 and 4 mean is unknown, so only their form is checked.
	switch {
	case version == 1 && r.Set != syncSetIntents:
		return nil, fmt.Errorf("%w: /1 has no key 5", errSyncViolation)
	case r.Set != syncSetIntents && r.Set < setsOf(version) && len(r.Tombs) > 0:
		return nil, fmt.Errorf("%w: a request for set %d lists tombstones", errSyncViolation, r.Set)
	}
	if err := intent.CheckCategory(r.Category); err != nil {
		return nil, fmt.Errorf("%w: %v", errSyncViolation, err)
	}
	if r.To != 0 && r.From >= r.To {
		return nil, fmt.Errorf("%w: empty range [%d, %d)", errSyncViolation, r.From, r.To)
	}
	if (len(r.Live)+len(r.Tombs))/syncPrefixLen > syncMaxIDs {
		return nil, fmt.Errorf("%w: more than %d IDs", errSyncViolation, syncMaxIDs)
	}
	var err error
	if r.live, err = unpackPrefixes(r.Live, r.From, r.To); err != nil {
		return nil, err
	}
	if r.tombs, err = unpackPrefixes(r.Tombs, r.From, r.To); err != nil {
		return nil, err
	}
	return &r, nil
}

// parseFrame decodes a response frame of a version and checks its shape.
func parseFrame(data []byte, version int) (*syncFrame, error) {
	var f syncFrame
	if err := decodeSyncCBOR(data, &f); err != nil {
		return nil, err
	}
	bad := false
	switch f.Kind {
	case syncKindIntent:
		bad = len(f.Msg) == 0 || len(f.Msg) > intent.MaxIntentSize || f.Intent != nil || f.Next != 0 || f.More
	case syncKindTombstone:
		maxClosure := intent.MaxCancelSize
		if version >= 2 {
			maxClosure = intent.MaxAcceptSize
		}
		bad = len(f.Msg) == 0 || len(f.Msg) > maxClosure || len(f.Intent) > intent.MaxIntentSize || f.Next != 0 || f.More
	case syncKindOffer:
		bad = version < 2 || len(f.Msg) == 0 || len(f.Msg) > intent.MaxOfferSize || f.Intent != nil || f.Next != 0 || f.More
	case syncKindEnd:
		bad = f.Msg != nil || f.Intent != nil || (f.Next != 0 && !f.More)
	default:
		var known bool
		if bad, known = ratingFrameBad(&f, version); !known {
			bad = true
		}
	}
	if bad {
		return nil, fmt.Errorf("%w: malformed frame of kind %d", errSyncViolation, f.Kind)
	}
	return &f, nil
}
