package store

import (
	"context"
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// seenEntry is one entry of the replay index.
type seenEntry struct {
	ID    ID
	Until time.Time
}

var seenByUntil = index[seenEntry]{
	bucket: bucketSeenByUntil,
	key: func(e seenEntry) []byte {
		return append(appendStamp(nil, e.Until), e.ID[:]...)
	},
}

// replay stores the bare stamp as the value: an entry has nothing else to
// say, and the replay check runs on every message the node validates.
var replay = &table[seenEntry]{
	bucket:  bucketSeen,
	id:      func(e seenEntry) ID { return e.ID },
	encode:  func(e seenEntry) ([]byte, error) { return appendStamp(nil, e.Until), nil },
	decode:  decodeSeen,
	indexes: []index[seenEntry]{seenByUntil},
}

func decodeSeen(id ID, b []byte) (seenEntry, error) {
	until, err := parseStamp(b)
	return seenEntry{ID: id, Until: until}, err
}

// MarkSeen records id in the replay index until `until` and reports whether
// it was new. bbolt runs one write transaction at a time, so the check and
// the write inside it are atomic. A repeat only writes if it extends the
// entry; most repeats (gossip resends, late-joiner sync) are answered by a
// read transaction first, which runs concurrently and needs no fsync.
func (s *Bolt) MarkSeen(ctx context.Context, id ID, until time.Time) (fresh bool, err error) {
	var known bool
	err = s.view(ctx, "mark seen", func(tx *bolt.Tx) error {
		e, err := replay.get(tx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		known = err == nil && !e.Until.Before(until)
		return err
	})
	if err != nil || known {
		return false, err
	}
	err = s.update(ctx, "mark seen", func(tx *bolt.Tx) error {
		e, err := replay.get(tx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			fresh = true
		case err != nil:
			return err
		case !e.Until.Before(until):
			return nil // another caller got here first, with a later or equal until
		}
		return replay.put(tx, seenEntry{ID: id, Until: until})
	})
	if err != nil {
		return false, err
	}
	return fresh, nil
}

// Seen reports whether id is in the replay index.
func (s *Bolt) Seen(ctx context.Context, id ID) (seen bool, err error) {
	err = s.view(ctx, "seen", func(tx *bolt.Tx) error {
		seen = replay.has(tx, id)
		return nil
	})
	return seen, err
}

// SeenEntries returns the replay entries whose until is at or after now.
func (s *Bolt) SeenEntries(ctx context.Context, now time.Time) (list []SeenEntry, err error) {
	err = s.view(ctx, "list replay entries", func(tx *bolt.Tx) error {
		entries, err := replay.ascend(tx, seenByUntil, nil, appendStamp(nil, now))
		for _, e := range entries {
			list = append(list, SeenEntry(e))
		}
		return err
	})
	return list, err
}
