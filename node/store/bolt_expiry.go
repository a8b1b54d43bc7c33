package store

import (
	"bytes"
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// unexpired returns the records of t expiring at or after now, in expiry
// order: from byCat (keyed text(category)|stamp|ID) for one category, from
// byExp (keyed stamp|ID) for all. Either way it is one Seek past the expired
// records, however many are waiting for Prune.
func unexpired[R any](tx *bolt.Tx, t *table[R], byCat, byExp index[R], category string, now time.Time) ([]R, error) {
	if category == "" {
		return t.ascend(tx, byExp, nil, appendStamp(nil, now))
	}
	prefix := appendText(nil, category)
	return t.ascend(tx, byCat, prefix, appendStamp(bytes.Clone(prefix), now))
}

// Prune deletes the live intents, tombstones, relayed offers, outbox
// entries and replay entries that expired
// before now, in one transaction, and returns how many it deleted.
func (s *Bolt) Prune(ctx context.Context, now time.Time) (n int, err error) {
	limit := appendStamp(nil, now)
	err = s.update(ctx, "prune", func(tx *bolt.Tx) error {
		live, err := pruneLive(tx, limit)
		if err != nil {
			return err
		}
		tombs, err := tombstones.removeBefore(tx, tombByExp, limit)
		if err != nil {
			return err
		}
		relays, err := relayed.removeBefore(tx, relayByExp, limit)
		if err != nil {
			return err
		}
		out, err := outbox.removeBefore(tx, outByExp, limit)
		if err != nil {
			return err
		}
		seen, err := replay.removeBefore(tx, seenByUntil, limit)
		if err != nil {
			return err
		}
		n = live + tombs + relays + out + seen
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
