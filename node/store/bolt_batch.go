package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

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
// overtaken by a later Apply or Queue; reads see it from then on
// (queuedView). wait returns once b is durable: appended to the journal
// and synced (bolt_journal.go), one disk sync where a transaction costs
// two and a rewrite of the pages it touches. b reaches the B+tree with
// the next transaction, a later Apply's or the checkpoint's (within
// checkpointEvery), and Close writes it before it closes. wait returns
// what Apply would (b is checked as Apply would check it before it is
// taken); the caller must call it once.
func (s *Bolt) Queue(ctx context.Context, b Batch) (wait func() error) {
	if err := ctx.Err(); err != nil {
		return func() error { return fmt.Errorf("store: apply batch: %w", err) }
	}
	if _, err := checkBatch(b); err != nil {
		return func() error { return fmt.Errorf("store: apply batch: %w", err) }
	}
	done := make(chan error, 1)
	if err := s.group.enqueueLogged(b, func(c *commit) { s.logging.Go(func() { done <- s.log(c) }) }); err != nil {
		return func() error { return err }
	}
	return func() error { return <-done }
}

// Behind takes b into the write queue, as Queue does, without appending
// it to the journal: the next transaction (a later Apply, the checkpoint
// within checkpointEvery, Close) writes it, and wait returns then. One
// encoding and no disk sync of its own, where Queue costs an encoding, an
// append and a sync per batch.
func (s *Bolt) Behind(ctx context.Context, b Batch) (wait func() error) {
	if err := ctx.Err(); err != nil {
		return func() error { return fmt.Errorf("store: apply batch: %w", err) }
	}
	size, err := checkBatch(b)
	if err != nil {
		return func() error { return fmt.Errorf("store: apply batch: %w", err) }
	}
	c, full, err := s.group.enqueueBehind(b, size)
	if err != nil {
		return func() error { return err }
	}
	if full {
		s.kickCheckpoint()
	}
	return func() error {
		<-c.wake
		return c.err
	}
}

// log appends c's batch to the journal. If that fails, the batch is
// written into the tree now instead, and log returns how that went.
func (s *Bolt) log(c *commit) error {
	full, err := s.journal.append(c.seq, c.batch)
	if full {
		s.kickCheckpoint()
	}
	if err == nil {
		return nil
	}
	// A round that Apply leads, or waits its turn for, writes every batch
	// queued before it; c's wake says when c's round is over (or Close
	// wrote it).
	_ = s.Apply(context.Background(), Batch{})
	<-c.wake
	return c.err
}

// checkBatch encodes every record of b as applyBatch will: a record the
// store would refuse (ErrInvalid) is refused before Queue or Behind takes
// it, not found by a transaction after wait said it was durable. It
// returns the records' encoded size.
func checkBatch(b Batch) (int, error) {
	var size int
	err := errors.Join(
		checkAll(ownIntents.encode, ownIntents.id, b.Own, &size),
		checkAll(offers.encode, offers.id, b.Offers, &size),
		checkAll(tombstones.encode, tombstones.id, b.Tombstones, &size),
		checkAll(encodeLiveIntent, liveID, b.Live, &size),
		checkAll(relayed.encode, relayed.id, b.Relay, &size),
		checkAll(outbox.encode, outbox.id, b.Outbox, &size),
		checkAll(threads.encode, threads.id, b.Threads, &size),
		checkAll(deals.encode, deals.id, b.Deals, &size))
	return size, err
}

func checkAll[R any](encode func(R) ([]byte, error), id func(R) ID, rs []R, size *int) error {
	for _, r := range rs {
		v, err := encode(r)
		if err != nil {
			return fmt.Errorf("%s: %w", shortID(id(r)), err)
		}
		*size += len(v)
	}
	return nil
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
		if err := putLive(tx, in); err != nil {
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

// commitGroup writes the batches of a group in one transaction, with the
// highest journal sequence number among them. If that fails, each is
// written alone, so one caller's bad batch (ErrInvalid) does not fail the
// others'.
func (s *Bolt) commitGroup(ctx context.Context, group []*commit) {
	if len(group) > 1 {
		var seq uint64
		err := s.update(ctx, "apply batches", func(tx *bolt.Tx) error {
			for _, c := range group {
				if err := applyBatch(tx, c.batch); err != nil {
					return err
				}
				seq = max(seq, c.seq)
			}
			return setJournalSeq(tx, seq)
		})
		if err == nil {
			s.wrote(seq)
			s.emptyJournal()
			return
		}
	}
	// Once a journaled batch fails, the tree must not claim the journal
	// past it: replay at the next Open would skip it.
	lost := false
	for _, c := range group {
		c.err = s.update(ctx, "apply batch", func(tx *bolt.Tx) error {
			if err := applyBatch(tx, c.batch); err != nil || lost {
				return err
			}
			return setJournalSeq(tx, c.seq)
		})
		switch {
		case c.err != nil && c.seq != 0:
			lost = true
		case c.err == nil && !lost:
			s.wrote(c.seq)
		}
	}
	s.emptyJournal()
}

// emptyJournal makes the journal's next append write from its start if
// the tree holds every record in it, after a transaction: the flush that
// takes queued batches along also ends their records' stay, so a node
// that keeps publishing does not outgrow the journal's preallocated
// length before the checkpoint comes. TryLock: the checkpoint holds the
// journal across its own rounds (and empties it then), and an append
// holds it while it writes a record the tree may not hold yet.
func (s *Bolt) emptyJournal() {
	if !s.journal.mu.TryLock() {
		return
	}
	defer s.journal.mu.Unlock()
	s.journal.empty(s.written.Load())
}

// wrote notes that the tree holds the journal up to seq.
func (s *Bolt) wrote(seq uint64) {
	for {
		old := s.written.Load()
		if seq <= old || s.written.CompareAndSwap(old, seq) {
			return
		}
	}
}

// committer is group commit without a timer. bbolt runs one write
// transaction at a time and each costs a disk sync; callers that arrive
// while one commits queue up, and the next transaction takes them all. A
// lone caller commits at once, so grouping adds no wait, it only shares a
// sync among callers that were waiting anyway. The caller that commits
// (the leader) is one of Apply's callers, not a goroutine of the store: it
// commits one round and hands the lead to the first Apply still queued.
// Queue's batches never lead: durable by the journal, they ride the next
// round (an Apply's, or the checkpoint's).
//
// The batches queued and the group being written are also what reads add
// to the stored records (queuedView): a batch is visible from enqueue on,
// and leaves the lists only once its transaction is over.
type committer struct {
	mu      sync.Mutex
	queue   []*commit
	writing []*commit     // the group the leader is writing
	busy    bool          // a leader is committing or handing over
	seq     uint64        // the last journal sequence number given (enqueueLogged)
	behind  int           // encoded bytes of Behind's batches in the queue
	closed  bool          // Close came: nothing more joins the queue
	idle    chan struct{} // closed when busy ends after close
}

// commit is one Apply, Queue or Behind call in the queue.
type commit struct {
	batch  Batch
	seq    uint64    // Queue's: the batch's journal sequence number; 0 for the others
	behind bool      // Behind's: rides a round, never leads one
	queued time.Time // Queue's and Behind's: when it joined the queue (due)
	err    error
	wake   chan bool // true: lead the next round (Apply's only); false: done, err is set
}

// leads reports whether c is Apply's, whose caller commits a round when
// its turn comes.
func (c *commit) leads() bool { return c.seq == 0 && !c.behind }

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

// enqueueLogged puts b at the end of the queue for Queue, with the next
// journal sequence number, and calls start with it before close can
// return (Close then waits for what start began). It leads no round: the
// batch is durable by the journal, and waits for the next round to reach
// the tree.
func (g *committer) enqueueLogged(b Batch, start func(*commit)) error {
	c := &commit{batch: b, wake: make(chan bool, 1)}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("store: apply batch: %w", ErrClosed)
	}
	g.seq++
	c.seq, c.queued = g.seq, time.Now()
	g.queue = append(g.queue, c)
	start(c)
	return nil
}

// enqueueBehind puts b, of size encoded bytes, at the end of the queue
// for Behind. Like Queue's, it leads no round: the next one writes it.
// full reports that Behind's batches in the queue have reached
// journalMax, the bound the journal puts on Queue's: whoever fills the
// queue brings the next round forward instead of holding more memory.
func (g *committer) enqueueBehind(b Batch, size int) (c *commit, full bool, err error) {
	c = &commit{batch: b, behind: true, queued: time.Now(), wake: make(chan bool, 1)}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, false, fmt.Errorf("store: apply batch: %w", ErrClosed)
	}
	g.queue = append(g.queue, c)
	g.behind += size
	return c, g.behind >= journalMax, nil
}

// due returns how long until the oldest batch in the queue has waited
// every, or 0 if it has, or if none waits that a round will not take
// anyway: the queue is empty, or an Apply's caller leads the next round.
func (g *committer) due(now time.Time, every time.Duration) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 || g.queue[0].leads() {
		return 0
	}
	return max(0, g.queue[0].queued.Add(every).Sub(now))
}

// waiting reports whether batches wait in the queue for a round.
func (g *committer) waiting() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue) > 0
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

// drain writes what is left in the queue after close (Queue's batches:
// an Apply still queued would be leading a round) and wakes their
// callers.
func (g *committer) drain(write func([]*commit)) {
	g.mu.Lock()
	group := g.queue
	g.queue, g.writing, g.behind = nil, group, 0
	g.mu.Unlock()
	if len(group) == 0 {
		return
	}
	write(group)
	for _, c := range group {
		c.wake <- false
	}
	g.mu.Lock()
	g.writing = nil
	g.mu.Unlock()
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
	g.queue, g.writing, g.behind = nil, group, 0
	g.mu.Unlock()
	write(group)
	for _, o := range group {
		if o != c {
			o.wake <- false
		}
	}
	g.mu.Lock()
	g.writing = nil
	// The lead goes to the first Apply still queued; Queue's and Behind's
	// batches ahead of it are in its round. Theirs alone wait for the next
	// one.
	if i := slices.IndexFunc(g.queue, (*commit).leads); i >= 0 {
		g.queue[i].wake <- true
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
