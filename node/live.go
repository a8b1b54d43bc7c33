package node

import (
	"slices"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// liveSet is the in-memory view of the intents this node currently knows
// (its own and those seen on the network). Validators consult it on every
// offer, accept and cancel, so it must answer without touching the disk; the
// store remains the durable copy it is rebuilt from at start.
type liveSet struct {
	mu      sync.Mutex
	intents map[intent.ID]liveEntry // by value: one object fewer per intent for the GC
	max     int
}

type liveEntry struct {
	in       *intent.SignedIntent
	received time.Time
	sent     int // offers this node sent to it, for the node's records
}

// record is the live intent as the node shows it.
func (e liveEntry) record() IntentRecord { return IntentRecord{Intent: e.in, Offers: e.sent} }

func newLiveSet(max int) *liveSet {
	return &liveSet{intents: make(map[intent.ID]liveEntry), max: max}
}

// add records in; it reports false if the set is full (the intent is then
// ignored rather than evicting others, so a flood cannot push out honest
// intents that arrived first).
func (l *liveSet) add(in *intent.SignedIntent, received time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.intents[in.ID]; ok {
		return true
	}
	if len(l.intents) >= l.max {
		return false
	}
	l.intents[in.ID] = liveEntry{in: in, received: received}
	return true
}

func (l *liveSet) get(id intent.ID) (*intent.SignedIntent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.intents[id]
	if !ok {
		return nil, false
	}
	return e.in, true
}

// countSent counts one more offer this node sent for id and returns the
// intent's record after it; false if id is not live.
func (l *liveSet) countSent(id intent.ID) (IntentRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.intents[id]
	if !ok {
		return IntentRecord{}, false
	}
	e.sent++
	l.intents[id] = e
	return e.record(), true
}

// setSent sets how many offers this node sent for id (at start, from the
// store).
func (l *liveSet) setSent(id intent.ID, sent int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.intents[id]; ok {
		e.sent = sent
		l.intents[id] = e
	}
}

// lookup returns the record of a live intent.
func (l *liveSet) lookup(id intent.ID) (IntentRecord, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.intents[id]
	if !ok {
		return IntentRecord{}, false
	}
	return e.record(), true
}

func (l *liveSet) remove(id intent.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.intents, id)
}

// prune drops intents expired at now (allowing skew), returning how many.
func (l *liveSet) prune(now time.Time, skew time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, e := range l.intents {
		if now.After(e.in.Body.ExpiresAt().Add(skew)) {
			delete(l.intents, id)
			n++
		}
	}
	return n
}

// list returns the intents live at now, oldest received first.
func (l *liveSet) list(now time.Time) []IntentRecord {
	type timed struct {
		rec      IntentRecord
		received time.Time
	}
	l.mu.Lock()
	entries := make([]timed, 0, len(l.intents))
	for _, e := range l.intents {
		if now.Before(e.in.Body.ExpiresAt()) {
			entries = append(entries, timed{e.record(), e.received})
		}
	}
	l.mu.Unlock()
	slices.SortFunc(entries, func(a, b timed) int { return a.received.Compare(b.received) })
	out := make([]IntentRecord, len(entries))
	for i, e := range entries {
		out[i] = e.rec
	}
	return out
}

func (l *liveSet) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.intents)
}
