package store

import (
	"context"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Apply writes b in one transaction: all of it or, on error, none of it.
// Concurrent calls share transactions (group commit, see committer): each
// returns once its batch is durable, and fails only for its own reasons.
func (s *Bolt) Apply(ctx context.Context, b Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: apply batch: %w", err)
	}
	c, lead, err := s.group.enqueue(b)
	if err != nil {
		return err
	}
	return s.group.finish(s.writer(ctx), c, lead)
}

// Queue takes b into the write queue before it returns, so that whatever
// the caller does next (send the message b records, say) cannot be
// overtaken by a later Apply or Queue, and writes it as Apply would on a
// goroutine that ends when the batch is written. Reads see it from the
// moment it is queued (queuedView), and Close writes it before it closes.
// wait returns Apply's error; the caller must call it once.
func (s *Bolt) Queue(ctx context.Context, b Batch) (wait func() error) {
	if err := ctx.Err(); err != nil {
		return func() error { return fmt.Errorf("store: apply batch: %w", err) }
	}
	c, lead, err := s.group.enqueue(b)
	if err != nil {
		return func() error { return err }
	}
	done := make(chan error, 1)
	go func() { done <- s.group.finish(s.writer(ctx), c, lead) }()
	return func() error { return <-done }
}

// writer commits a group of queued batches. Not ctx: a batch that has
// joined a group is written with it, whatever became of its caller.
func (s *Bolt) writer(ctx context.Context) func([]*commit) {
	return func(group []*commit) { s.commitGroup(context.WithoutCancel(ctx), group) }
}

// applyBatch writes b inside tx.
func applyBatch(tx *bolt.Tx, b Batch) error {
	for _, in := range b.Own {
		if err := ownIntents.put(tx, in); err != nil {
			return err
		}
	}
	for _, o := range b.Offers {
		if err := offers.put(tx, o); err != nil {
			return err
		}
	}
	for _, t := range b.Tombstones {
		if err := putTombstone(tx, t); err != nil {
			return err
		}
	}
	for _, in := range b.Live {
		if tombstones.has(tx, in.ID) {
			continue
		}
		if err := liveIntents.put(tx, in); err != nil {
			return err
		}
	}
	for _, o := range b.Relay {
		if tombstones.has(tx, o.IntentID) {
			continue
		}
		if err := relayed.put(tx, o); err != nil {
			return err
		}
	}
	for _, id := range b.Unrelay {
		if _, err := relayed.remove(tx, id); err != nil {
			return err
		}
	}
	for _, o := range b.Outbox {
		if err := outbox.put(tx, o); err != nil {
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
	for _, m := range b.Threads {
		if err := threads.put(tx, m); err != nil {
			return err
		}
	}
	for _, d := range b.Deals {
		if err := deals.put(tx, d); err != nil {
			return err
		}
	}
	return nil
}

// commitGroup writes the batches of a group in one transaction. If that
// fails, each is written alone, so one caller's bad batch (ErrInvalid) does
// not fail the others'.
func (s *Bolt) commitGroup(ctx context.Context, group []*commit) {
	if len(group) > 1 {
		err := s.update(ctx, "apply batches", func(tx *bolt.Tx) error {
			for _, c := range group {
				if err := applyBatch(tx, c.batch); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
	}
	for _, c := range group {
		c.err = s.update(ctx, "apply batch", func(tx *bolt.Tx) error { return applyBatch(tx, c.batch) })
	}
}

// committer is group commit without a timer. bbolt runs one write
// transaction at a time and each costs a disk sync; callers that arrive
// while one commits queue up, and the next transaction takes them all. A
// lone caller commits at once, so grouping adds no wait, it only shares a
// sync among callers that were waiting anyway. The caller that commits
// (the leader) is one of the callers (for Queue, the goroutine that
// stands in for its caller), not a goroutine of the store: it commits one
// round and hands the lead to the first caller still queued.
//
// The batches queued and the group being written are also what reads add
// to the stored records (queuedView): a batch is visible from enqueue on,
// and leaves the lists only once its transaction is over.
type committer struct {
	mu      sync.Mutex
	queue   []*commit
	writing []*commit     // the group the leader is writing
	busy    bool          // a leader is committing or handing over
	closed  bool          // Close came: nothing more joins the queue
	idle    chan struct{} // closed when busy ends after close
}

// commit is one Apply call in the queue.
type commit struct {
	batch Batch
	err   error
	wake  chan bool // true: lead the next round; false: done, err is set
}

// enqueue puts b at the end of the queue: batches are written in the
// order they were queued, in one group or in successive ones. lead says
// whether the caller must commit the next round.
func (g *committer) enqueue(b Batch) (c *commit, lead bool, err error) {
	c = &commit{batch: b, wake: make(chan bool, 1)}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, false, fmt.Errorf("store: apply batch: %w", ErrClosed)
	}
	g.queue = append(g.queue, c)
	lead = !g.busy
	g.busy = true
	return c, lead, nil
}

// close stops the queue and waits until every batch in it is written.
func (g *committer) close() {
	g.mu.Lock()
	g.closed = true
	var idle chan struct{}
	if g.busy {
		if g.idle == nil {
			g.idle = make(chan struct{})
		}
		idle = g.idle
	}
	g.mu.Unlock()
	if idle != nil {
		<-idle
	}
}

// pending returns the batches not yet known written, oldest first; g.mu
// is held.
func (g *committer) pending() []Batch {
	out := make([]Batch, 0, len(g.writing)+len(g.queue))
	for _, c := range g.writing {
		out = append(out, c.batch)
	}
	for _, c := range g.queue {
		out = append(out, c.batch)
	}
	return out
}

// finish waits until c is written, leading rounds when it is c's turn to.
func (g *committer) finish(write func([]*commit), c *commit, lead bool) error {
	if !lead && !<-c.wake {
		return c.err
	}
	g.mu.Lock()
	group := g.queue
	g.queue, g.writing = nil, group
	g.mu.Unlock()
	write(group)
	for _, o := range group {
		if o != c {
			o.wake <- false
		}
	}
	g.mu.Lock()
	g.writing = nil
	if len(g.queue) > 0 {
		g.queue[0].wake <- true
	} else {
		g.busy = false
		if g.idle != nil {
			close(g.idle)
			g.idle = nil
		}
	}
	g.mu.Unlock()
	return c.err
}
