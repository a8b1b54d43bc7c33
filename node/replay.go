package node

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// replayIndex answers "seen before?" for every gossip message, from memory
// alone: validation runs on every message every node sees. At start it is
// loaded from the store (the replay entries, and every message the store
// holds, see seed), so a message passes once also across restarts. The
// durable copy is written behind, in batches: one fsync per flush instead
// of one per message. A crash loses at most the last flush interval of
// entries, and those messages were also stored as live intents or offers
// where they matter.
//
// An intent's entry is not written at all: the live intent record that
// deliver queues for it says the same (seed remembers every stored live
// intent until its expiry plus skew, which is what the entry would say,
// and a tombstone keeps a cancelled one out), so a relayed intent costs one
// record, not two.
//
// The flush also carries the outbox's send statuses (outbox.go,
// "Statuses are written behind"): one commit per wait for everything the
// node writes behind.
type replayIndex struct {
	store store.Store
	log   *slog.Logger

	mu sync.Mutex
	// mem maps id -> until, in Unix nanoseconds: a map without pointers,
	// which the garbage collector need not scan, for an entry per message
	// seen that stays for hours.
	mem     map[intent.ID]int64
	pending []store.SeenEntry
	live    []store.LiveIntent
	relayed []store.RelayedOffer
	unrelay []store.ID        // relayed offers displaced from store-and-forward
	tombs   []store.Tombstone // closures of intents this node only relayed
	// statuses are own messages' send statuses, the latest of each.
	statuses map[intent.ID]store.Outgoing
	// flushing is the batch being written: the pending* readers still see
	// it until it has committed, so an entry is never in neither place.
	flushing store.Batch
	kick     chan struct{}
}

// flushEvery bounds how long a replay entry or live intent stays only in
// memory; flushBatch bounds one transaction. Every flush is a bbolt
// commit (two fdatasyncs, and a rewrite of every B+tree page it touches,
// which for random IDs is about one leaf page per entry), so a longer wait
// shares a commit's fixed cost among more entries: one flush a second
// instead of ten cut a relay's CPU per delivered intent by about a fifth
// under load (docs/BENCHMARKS.md, "Node"), and every four seconds instead
// of every second cut it by 5 to 10% at 10 intents a second, where a
// quiet node's commit held a second's few entries (docs/BENCHMARKS.md,
// "A quiet relay's flush"). Until then the wait was a second, doubling
// to four under load; four always is simpler and loses no more.
// flushBatch still caps what the queues hold: whoever fills them (every
// entry is a message that passed the validator: proof of work and a
// signature) only brings the next flush forward.
//
// What a crash can lose is the last wait's entries (flushEvery and its
// jitter at most, and at most flushBatch a queue): relayed state only,
// never an acknowledged operation (own messages, received offers, deals
// and the closures of intents with a stake are written at once;
// docs/ARCHITECTURE.md, "Durable before acknowledged"). A lost replay
// entry lets the message pass once more after the restart, as gossip's own
// seen cache also forgets it; a lost live intent or tombstone is one the
// node missed, which sync brings back.
const (
	flushEvery = 4 * time.Second
	flushBatch = 1024
)

func newReplayIndex(s store.Store, log *slog.Logger) *replayIndex {
	return &replayIndex{store: s, log: log, mem: make(map[intent.ID]int64), statuses: make(map[intent.ID]store.Outgoing),
		kick: make(chan struct{}, 1)}
}

// markSeen records id until `until` and reports whether it is new: true for
// exactly one caller per id, however many ask at once. persist queues the
// entry for the store; an intent's is not (see replayIndex).
func (r *replayIndex) markSeen(id intent.ID, until time.Time, persist bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mem[id]; ok {
		return false
	}
	r.mem[id] = until.UnixNano()
	if persist {
		r.pending = append(r.pending, store.SeenEntry{ID: id, Until: until})
		r.signal(len(r.pending))
	}
	return true
}

// seen reports whether id is in the replay index, without marking it.
func (r *replayIndex) seen(id intent.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.mem[id]
	return ok
}

// forget takes id out of the in-memory index: an own message that never
// left the node (outbox.load), which seed remembered with every message
// the store holds, or an intent the live set had no room for.
func (r *replayIndex) forget(id intent.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.mem, id)
}

// putLive queues a live intent for the next flush.
func (r *replayIndex) putLive(in store.LiveIntent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live = append(r.live, in)
	r.signal(len(r.live))
}

// putStatus queues an own message's send status for the next flush, in
// place of one queued for it before.
func (r *replayIndex) putStatus(o store.Outgoing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses[o.ID] = o
	r.signal(len(r.statuses))
}

// putRelayed queues a relayed offer (store-and-forward) for the next flush.
func (r *replayIndex) putRelayed(o store.RelayedOffer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.relayed = append(r.relayed, o)
	r.signal(len(r.relayed))
}

// dropRelayed queues the deletion of a relayed offer displaced from
// store-and-forward, and takes it out of the queue if it was not yet
// written.
func (r *replayIndex) dropRelayed(id store.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.relayed = slices.DeleteFunc(r.relayed, func(o store.RelayedOffer) bool { return o.ID == id })
	r.unrelay = append(r.unrelay, id)
	r.signal(len(r.unrelay))
}

// putTombstone queues the tombstone of an intent this node only relayed
// (closeIntent) for the next flush.
func (r *replayIndex) putTombstone(t store.Tombstone) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tombs = append(r.tombs, t)
	r.signal(len(r.tombs))
}

// pendingTombstones returns the tombstones of a category ("" for all) not
// yet committed. Read them before the store: an entry leaves them only
// once it is in the store.
func (r *replayIndex) pendingTombstones(category string) []store.Tombstone {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Tombstone
	for _, t := range slices.Concat(r.flushing.Tombstones, r.tombs) {
		if category == "" || t.Category == category {
			out = append(out, t)
		}
	}
	return out
}

// pendingRelayed returns the relayed offers of a category not yet
// committed; like pendingTombstones, read before the store.
func (r *replayIndex) pendingRelayed(category string) []store.RelayedOffer {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.RelayedOffer
	for _, o := range slices.Concat(r.flushing.Relay, r.relayed) {
		if o.Category == category {
			out = append(out, o)
		}
	}
	return out
}

func (r *replayIndex) signal(n int) {
	if n >= flushBatch {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// Serve flushes until ctx ends, then flushes once more so Close loses
// nothing: every flushEvery, or at once when a queue reaches flushBatch.
func (r *replayIndex) Serve(ctx context.Context) error {
	// Each wait is spread by jitter: nodes started together (a swarm, a
	// fleet restarted at once) would otherwise flush in step, their commits
	// and syncs landing on the CPU and the disk at one moment.
	t := time.NewTimer(jitter(flushEvery))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.flush(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
		case <-r.kick:
		}
		// Not ctx: a flush cut short by Close would drop its entries, which
		// have already left the queue.
		r.flush(context.WithoutCancel(ctx))
		t.Reset(jitter(flushEvery))
	}
}

// flush writes what is pending in one transaction.
func (r *replayIndex) flush(ctx context.Context) {
	r.mu.Lock()
	b := store.Batch{Seen: r.pending, Live: r.live, Relay: r.relayed, Unrelay: r.unrelay, Tombstones: r.tombs,
		Outbox: slices.Collect(maps.Values(r.statuses))}
	r.pending, r.live, r.relayed, r.unrelay, r.tombs = nil, nil, nil, nil, nil
	clear(r.statuses)
	r.flushing = b
	r.mu.Unlock()
	if len(b.Seen)+len(b.Live)+len(b.Relay)+len(b.Unrelay)+len(b.Tombstones)+len(b.Outbox) == 0 {
		return
	}
	if err := r.store.Apply(ctx, b); err != nil {
		r.log.Error("store: write replay index, live intents and send statuses", "entries", len(b.Seen), "intents", len(b.Live),
			"tombstones", len(b.Tombstones), "statuses", len(b.Outbox), "err", err)
	}
	r.mu.Lock()
	r.flushing = store.Batch{}
	r.mu.Unlock()
}

// prune forgets entries whose time has passed.
func (r *replayIndex) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, until := range r.mem {
		if until < now.UnixNano() {
			delete(r.mem, id)
		}
	}
}

// seed rebuilds the in-memory replay index from the durable records at
// start: the replay entries, and more. Replay entries are written behind
// (flushEvery), and an intent's not at all, but what the API
// acknowledged (own intents and cancels, offers, accepts, deals) and what
// deliver stored (received offers, tombstones) is written at once: after a
// SIGKILL the store can hold a message whose replay entry was still
// pending. Without this, a replay of such a message after the restart
// would pass as new: a replayed own intent would be forwarded again, and a
// replayed offer to an intent already accepted would overwrite the
// accepted offer's record (status back to valid). Every message the store
// holds is therefore remembered as seen until its intent expires (plus
// skew), like markSeen does. Nothing is written: the next start seeds
// again from the same records.
func (r *replayIndex) seed(ctx context.Context, s store.Store, now time.Time, skew time.Duration) error {
	expires := make(map[intent.ID]time.Time) // intent ID -> expiry, to bound the others
	mem := make(map[intent.ID]time.Time)
	remember := func(id intent.ID, until time.Time) {
		if until = until.Add(skew); until.After(now) && until.After(mem[id]) {
			mem[id] = until
		}
	}
	own, err := s.OwnIntents(ctx)
	if err != nil {
		return fmt.Errorf("own intents: %w", err)
	}
	for _, o := range own {
		expires[o.ID] = o.Expires
		remember(o.ID, o.Expires)
		if len(o.CancelRaw) > 0 {
			remember(intent.IDOf(o.CancelRaw), o.Expires)
		}
	}
	// Within skew of their expiry too: an intent's replay entry is its live
	// record, which the store keeps that long (Prune(now - skew)).
	live, err := s.LiveIntents(ctx, now.Add(-skew))
	if err != nil {
		return fmt.Errorf("live intents: %w", err)
	}
	for _, l := range live {
		expires[l.ID] = l.Expires
		remember(l.ID, l.Expires)
	}
	tombs, err := s.Tombstones(ctx, "", now)
	if err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	for _, t := range tombs {
		remember(intent.IDOf(t.Raw), t.Expires)
	}
	// Offers and accepts live as long as their intent; one whose intent is
	// no longer known is kept for the longest lifetime an intent can have.
	until := func(intentID intent.ID) time.Time {
		if e, ok := expires[intentID]; ok {
			return e
		}
		return now.Add(intent.MaxLifetime)
	}
	for _, d := range []store.Direction{store.Received, store.Sent} {
		offers, err := s.OffersByDirection(ctx, d)
		if err != nil {
			return fmt.Errorf("%s offers: %w", d, err)
		}
		for _, o := range offers {
			remember(o.ID, until(o.IntentID))
			if len(o.AcceptRaw) > 0 {
				remember(intent.IDOf(o.AcceptRaw), until(o.IntentID))
			}
		}
	}
	deals, err := s.Deals(ctx)
	if err != nil {
		return fmt.Errorf("deals: %w", err)
	}
	for _, d := range deals {
		remember(intent.IDOf(d.AcceptRaw), until(d.IntentID))
	}
	entries, err := s.SeenEntries(ctx, now)
	if err != nil {
		return fmt.Errorf("replay entries: %w", err)
	}
	for _, e := range entries {
		if e.Until.After(mem[e.ID]) {
			mem[e.ID] = e.Until
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, u := range mem {
		if u := u.UnixNano(); u > r.mem[id] {
			r.mem[id] = u
		}
	}
	return nil
}
