package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// replayIndex answers "seen before?" for every gossip message. Validation
// runs on every message every node sees, so the answer comes from memory;
// the durable copy in the store (so replays are refused after a restart too)
// is written behind, in batches: one fsync per flush instead of one per
// message. A crash loses at most the last flush interval of entries, and
// those messages were also stored as live intents or offers where they
// matter.
type replayIndex struct {
	store store.Store
	log   *slog.Logger

	mu      sync.Mutex
	mem     map[intent.ID]time.Time // id -> until
	pending []store.SeenEntry
	live    []store.LiveIntent
	kick    chan struct{}
}

// flushEvery bounds how long a replay entry or live intent stays only in
// memory; flushBatch bounds one transaction. Every flush is a bbolt commit
// (two fdatasyncs, and a rewrite of every B+tree page it touches, which for
// random IDs is about one leaf page per entry), and a commit stalls the
// store's readers and the node's own publishes (bbolt has one writer); one
// flush a second instead of ten cut a relay's CPU per delivered intent by
// about a fifth under load (docs/BENCHMARKS.md, "Node"). What a crash can
// lose is a second of entries, which gossip's own seen cache also forgets at
// a restart.
const (
	flushEvery = time.Second
	flushBatch = 1024
)

func newReplayIndex(s store.Store, log *slog.Logger) *replayIndex {
	return &replayIndex{store: s, log: log, mem: make(map[intent.ID]time.Time), kick: make(chan struct{}, 1)}
}

// markSeen records id until `until` and reports whether it is new: true for
// exactly one caller per id, however many ask at once. The store is read
// without holding the lock (a bbolt read can wait behind a commit's disk
// write, and validations run in parallel); the memory check and insertion
// after it are one atomic step, so of two racing callers only the first to
// insert sees a fresh id.
func (r *replayIndex) markSeen(ctx context.Context, id intent.ID, until time.Time) (bool, error) {
	r.mu.Lock()
	_, known := r.mem[id]
	r.mu.Unlock()
	if known {
		return false, nil
	}
	seen, err := r.store.Seen(ctx, id)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mem[id]; ok {
		return false, nil
	}
	r.mem[id] = until
	if seen {
		return false, nil
	}
	r.pending = append(r.pending, store.SeenEntry{ID: id, Until: until})
	r.signal(len(r.pending))
	return true, nil
}

// putLive queues a live intent for the next flush.
func (r *replayIndex) putLive(in store.LiveIntent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live = append(r.live, in)
	r.signal(len(r.live))
}

func (r *replayIndex) signal(n int) {
	if n >= flushBatch {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// run flushes until ctx ends, then flushes once more so Close loses nothing.
func (r *replayIndex) run(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
		case <-r.kick:
		}
		// Not ctx: a flush cut short by Close would drop its entries, which
		// have already left the queue.
		r.flush(context.WithoutCancel(ctx))
	}
}

// flush writes what is pending in one transaction.
func (r *replayIndex) flush(ctx context.Context) {
	r.mu.Lock()
	b := store.Batch{Seen: r.pending, Live: r.live}
	r.pending, r.live = nil, nil
	r.mu.Unlock()
	if len(b.Seen) == 0 && len(b.Live) == 0 {
		return
	}
	if err := r.store.Apply(ctx, b); err != nil {
		r.log.Error("store: write replay index and live intents", "entries", len(b.Seen), "intents", len(b.Live), "err", err)
	}
}

// prune forgets entries whose time has passed.
func (r *replayIndex) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, until := range r.mem {
		if until.Before(now) {
			delete(r.mem, id)
		}
	}
}
