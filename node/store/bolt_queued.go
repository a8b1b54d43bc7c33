package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// queuedView runs fn in a read transaction together with the batches not
// yet known written (queued, or in the group being written), oldest
// first, for fn to lay over what the transaction reads: a record is
// visible from the moment its batch is queued (Queue), not only once its
// disk sync is over. The transaction begins while the queue is held, so
// every batch is either in the list or in the transaction (or both, while
// its group's transaction ends: laying it over again changes nothing,
// because batches are written in queue order).
func (s *Bolt) queuedView(ctx context.Context, op string, fn func(*bolt.Tx, []Batch) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return fmt.Errorf("store: %s: %w", op, ErrClosed)
	}
	s.group.mu.Lock()
	queued := s.group.pending()
	tx, err := s.db.Begin(false)
	s.group.mu.Unlock()
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	if err := fn(tx, queued); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}

// queuedOffers lays the queued offers that keep selects over list (stored
// offers in the index's order, oldest Received first) and keeps that order.
func queuedOffers(list []Offer, queued []Batch, keep func(Offer) bool) []Offer {
	return layOver(list, queued, func(b Batch) []Offer { return b.Offers }, keep,
		func(o Offer) ID { return o.ID },
		func(a, b Offer) int {
			if c := a.Received.Compare(b.Received); c != 0 {
				return c
			}
			return bytes.Compare(a.ID[:], b.ID[:])
		})
}

// queuedDeals lays the queued deals over list (newest Closed first) and
// keeps that order.
func queuedDeals(list []Deal, queued []Batch) []Deal {
	return layOver(list, queued, func(b Batch) []Deal { return b.Deals }, nil,
		func(d Deal) ID { return d.IntentID },
		func(a, b Deal) int {
			if c := b.Closed.Compare(a.Closed); c != 0 {
				return c
			}
			return bytes.Compare(b.IntentID[:], a.IntentID[:])
		})
}

// queuedOwn lays the queued own intents over list (newest Created first)
// and keeps that order.
func queuedOwn(list []OwnIntent, queued []Batch) []OwnIntent {
	return layOver(list, queued, func(b Batch) []OwnIntent { return b.Own }, nil,
		func(o OwnIntent) ID { return o.ID },
		func(a, b OwnIntent) int {
			if c := b.Created.Compare(a.Created); c != 0 {
				return c
			}
			return bytes.Compare(b.ID[:], a.ID[:])
		})
}

// layOver lays the records of the queued batches (field picks them; keep,
// if not nil, selects) over list, oldest batch first: one with the key of
// a listed record replaces it, others join. If any did, list is sorted
// again by order, the order of the index it was read in.
func layOver[R any](list []R, queued []Batch, field func(Batch) []R, keep func(R) bool, key func(R) ID, order func(a, b R) int) []R {
	changed := false
	for _, b := range queued {
		for _, q := range field(b) {
			if keep != nil && !keep(q) {
				continue
			}
			changed = true
			if i := slices.IndexFunc(list, func(r R) bool { return key(r) == key(q) }); i >= 0 {
				list[i] = q
			} else {
				list = append(list, q)
			}
		}
	}
	if changed {
		slices.SortStableFunc(list, order)
	}
	return list
}
