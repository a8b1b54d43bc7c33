package node

import (
	"context"
)

// Hooks for benchmarks and diagnostics (bench/, docs/BENCHMARKS.md). They
// expose what the node already does, so that it can be measured apart from
// the network; nothing in the node depends on them.

// CheckMessage runs the gossip validator's checks on one wire message as if
// it had arrived on the intents (offers false) or offers topic of category,
// and returns the validator's error (nil means the validator would Accept
// it). It has the validator's side effects: an accepted message is marked
// seen (a second check of it fails as a replay) and an accepted intent joins
// the live set. Nothing is delivered or forwarded. raw is handed over as a
// router's message is: an accepted intent keeps it, so nothing may write it
// afterwards.
func (n *Node) CheckMessage(ctx context.Context, category string, offers bool, raw []byte) error {
	if err := n.alive(); err != nil {
		return err
	}
	_, err := n.check(ctx, category, offers, raw)
	return err
}
