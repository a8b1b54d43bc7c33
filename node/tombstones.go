package node

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// tombSet is the in-memory copy of the store's tombstones: the IDs of
// cancelled intents, until their expiry. The validator asks it about every
// intent, so it answers without touching the disk; the store keeps the
// tombstones themselves (what sync serves) and is written first.
type tombSet struct {
	mu      sync.Mutex
	expires map[intent.ID]time.Time
}

func newTombSet() *tombSet { return &tombSet{expires: make(map[intent.ID]time.Time)} }

func (t *tombSet) add(id intent.ID, expires time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expires[id] = expires
}

func (t *tombSet) has(id intent.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.expires[id]
	return ok
}

// prune drops tombstones whose intent expired before now minus skew, as
// the store's Prune does.
func (t *tombSet) prune(now time.Time, skew time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	maps.DeleteFunc(t.expires, func(_ intent.ID, exp time.Time) bool { return exp.Before(now.Add(-skew)) })
}

// loadTombstones fills the set from the store at start.
func (n *Node) loadTombstones(ctx context.Context) error {
	tombs, err := n.store.Tombstones(ctx, "", n.now().Add(-n.cfg.Policy.Skew()))
	if err != nil {
		return fmt.Errorf("node: load tombstones: %w", err)
	}
	for _, t := range tombs {
		n.tombs.add(t.IntentID, t.Expires)
	}
	return nil
}

// putTombstone stores a tombstone (deleting the live intent in the same
// transaction) and then adds it to memory.
func (n *Node) putTombstone(ctx context.Context, t store.Tombstone) error {
	if err := n.store.Apply(ctx, store.Batch{Tombstones: []store.Tombstone{t}}); err != nil {
		return err
	}
	n.tombs.add(t.IntentID, t.Expires)
	return nil
}
