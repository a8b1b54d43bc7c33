package node

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
	"unique"

	"github.com/intentcast/intentcast/intent"
)

// liveSet is the in-memory view of the intents this node currently knows
// (its own and those seen on the network). Validators consult it on every
// offer, accept and cancel, so it must answer without touching the disk; the
// store remains the durable copy it is rebuilt from at start.
//
// It keeps an intent's wire bytes, not its parsed form: a relay holds every
// live intent of its categories for hours, and the collector marks them all
// in every cycle, so the set keeps one pointer-free object per intent
// instead of the dozen a parse makes (BenchmarkLiveSetRetained). What the
// hot paths read (category, expiry) is kept beside the bytes; a cancel, an
// accept or a query parses the bytes again (BenchmarkLiveSetGet).
type liveSet struct {
	mu      sync.Mutex
	intents map[intent.ID]liveEntry
	max     int
}

type liveEntry struct {
	raw      []byte                // the signed intent, as validated
	category unique.Handle[string] // one copy per category, however many intents
	expires  int64                 // Unix seconds, as the intent states it
	received int64                 // Unix nanoseconds
	sent     int                   // offers this node sent to it, for the node's records
}

func (e liveEntry) expiresAt() time.Time { return time.Unix(e.expires, 0) }

// intent parses the entry's bytes again. They parsed and validated when
// the entry was made, and parsing is deterministic, so an error here means
// memory no longer holds what was put there.
func (e liveEntry) intent(id intent.ID) (*intent.SignedIntent, error) {
	in, err := intent.ParseIntent(e.raw)
	if err != nil {
		return nil, fmt.Errorf("live intent %s no longer parses: %w", id.Short(), err)
	}
	return in, nil
}

// liveRef is a live intent as sync lists it.
type liveRef struct {
	id      intent.ID
	raw     []byte
	expires time.Time
}

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
	l.intents[in.ID] = liveEntryOf(in, received)
	return true
}

// liveEntryOf is what the live set keeps of in.
func liveEntryOf(in *intent.SignedIntent, received time.Time) liveEntry {
	return liveEntry{
		raw:      in.Raw,
		category: unique.Make(in.Body.Category),
		expires:  in.Body.Expires,
		received: received.UnixNano(),
	}
}

// peek returns what the set keeps of a live intent, without parsing it.
func (l *liveSet) peek(id intent.ID) (liveEntry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.intents[id]
	return e, ok
}

// get returns a live intent, parsed.
func (l *liveSet) get(id intent.ID) (*intent.SignedIntent, bool) {
	rec, ok := l.lookup(id)
	return rec.Intent, ok
}

// lookup returns the record of a live intent.
func (l *liveSet) lookup(id intent.ID) (IntentRecord, bool) {
	e, ok := l.peek(id)
	if !ok {
		return IntentRecord{}, false
	}
	in, err := e.intent(id)
	if err != nil {
		return IntentRecord{}, false
	}
	return IntentRecord{Intent: in, Offers: e.sent}, true
}

// countSent counts one more offer this node sent for id and returns how
// many it sent; false if id is not live.
func (l *liveSet) countSent(id intent.ID) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.intents[id]
	if !ok {
		return 0, false
	}
	e.sent++
	l.intents[id] = e
	return e.sent, true
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
		if now.After(e.expiresAt().Add(skew)) {
			delete(l.intents, id)
			n++
		}
	}
	return n
}

// list returns the intents live at now, oldest received first, parsed.
func (l *liveSet) list(now time.Time) []IntentRecord {
	type timed struct {
		id intent.ID
		liveEntry
	}
	l.mu.Lock()
	entries := make([]timed, 0, len(l.intents))
	for id, e := range l.intents {
		if now.Before(e.expiresAt()) {
			entries = append(entries, timed{id, e})
		}
	}
	l.mu.Unlock()
	slices.SortFunc(entries, func(a, b timed) int { return cmp.Compare(a.received, b.received) })
	out := make([]IntentRecord, 0, len(entries))
	for _, e := range entries {
		if in, err := e.intent(e.id); err == nil {
			out = append(out, IntentRecord{Intent: in, Offers: e.sent})
		}
	}
	return out
}

// inCategory returns the live intents of a category, in a slice sized
// for them: counted first, as the other categories may hold most of the
// set.
func (l *liveSet) inCategory(category string) []liveRef {
	c := unique.Make(category)
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.intents {
		if e.category == c {
			n++
		}
	}
	out := make([]liveRef, 0, n)
	for id, e := range l.intents {
		if e.category == c {
			out = append(out, liveRef{id: id, raw: e.raw, expires: e.expiresAt()})
		}
	}
	return out
}

func (l *liveSet) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.intents)
}
