package node

import (
	"errors"
	"fmt"

	"github.com/intentcast/intentcast/intent"
)

// The frame of /intentcast/stem/1 (docs/PROTOCOL.md, "Stem relay"): one
// per stream, framed like sync's (an unsigned varint length, then canonical
// CBOR decoded strictly; sync_wire.go).

// Topic kinds of a stem frame: which of its category's two topics the
// message belongs on (what the gossip validator would be asked).
const (
	stemKindIntents = 1 // intents and cancels
	stemKindOffers  = 2 // accepts (sealed offers are never stemmed)
)

// stemMaxMsg bounds the message a frame carries: the largest message that
// is stemmed (intents; cancels and accepts are smaller).
const stemMaxMsg = max(intent.MaxIntentSize, intent.MaxCancelSize, intent.MaxAcceptSize)

// stemMaxFrame is the largest frame: the message, the category and the
// map's keys and headers.
const stemMaxFrame = stemMaxMsg + 64

// stemFrame is the one frame of a stem stream.
type stemFrame struct {
	Category string `cbor:"0,keyasint"`
	Kind     uint   `cbor:"1,keyasint"`
	Msg      []byte `cbor:"2,keyasint"`
}

// errStemViolation marks what an honest peer never sends on a stem stream:
// the peer is dropped from the stem for a while.
var errStemViolation = errors.New("stem protocol violation")

func (f *stemFrame) offers() bool { return f.Kind == stemKindOffers }

// stemKind is the kind of a topic.
func stemKind(offers bool) uint {
	if offers {
		return stemKindOffers
	}
	return stemKindIntents
}

// parseStemFrame decodes a frame and checks its shape. The message itself is
// checked by the validators.
func parseStemFrame(data []byte) (*stemFrame, error) {
	var f stemFrame
	if err := decodeSyncCBOR(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", errStemViolation, err)
	}
	if err := intent.CheckCategory(f.Category); err != nil {
		return nil, fmt.Errorf("%w: %w", errStemViolation, err)
	}
	if f.Kind != stemKindIntents && f.Kind != stemKindOffers {
		return nil, fmt.Errorf("%w: unknown topic kind %d", errStemViolation, f.Kind)
	}
	if len(f.Msg) == 0 || len(f.Msg) > stemMaxMsg {
		return nil, fmt.Errorf("%w: message of %d bytes, want 1..%d", errStemViolation, len(f.Msg), stemMaxMsg)
	}
	return &f, nil
}
