package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// Apply writes b in one transaction: all of it or, on error, none of it.
func (s *Bolt) Apply(ctx context.Context, b Batch) error {
	return s.update(ctx, "apply batch", func(tx *bolt.Tx) error {
		for _, in := range b.Live {
			if tombstones.has(tx, in.ID) {
				continue
			}
			if err := liveIntents.put(tx, in); err != nil {
				return err
			}
		}
		for _, e := range b.Seen {
			old, err := replay.get(tx, e.ID)
			if err == nil && !old.Until.Before(e.Until) {
				continue
			}
			if err := replay.put(tx, seenEntry(e)); err != nil {
				return err
			}
		}
		return nil
	})
}
