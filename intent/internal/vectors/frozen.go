package vectors

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Frozen holds the HPKE output of the vectors: sealing draws a fresh
// ephemeral key each time, so these bytes are made once and kept.
type Frozen struct {
	SealedOffer   Hex `json:"sealed_offer"`
	AcceptDetails Hex `json:"accept_details"`
	SealedCounter Hex `json:"sealed_counter,omitempty"` // thread-counter
	SealedReply   Hex `json:"sealed_reply,omitempty"`   // thread-reply
}

//go:embed frozen.json
var frozenJSON []byte

func loadFrozen() (*Frozen, error) {
	var f Frozen
	if err := json.Unmarshal(frozenJSON, &f); err != nil {
		return nil, fmt.Errorf("load frozen.json: %w", err)
	}
	return &f, nil
}

// Frozen returns the sealed parts the set used, in frozen.json's form. After
// Generate reports Resealed, write it there so that the next Generate
// reuses them.
func (s *Set) Frozen() ([]byte, error) {
	b, err := json.MarshalIndent(s.frozen, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode frozen.json: %w", err)
	}
	return append(b, '\n'), nil
}
