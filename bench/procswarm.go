package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// ProcSwarm is a Swarm whose peers are processes of their own, each
// running ChildMain: one Go runtime per peer, as deployed nodes are,
// where an in-process swarm shares one heap, one garbage collector and
// one scheduler among all its peers (at N = 100, one collection's mark
// phase stalls every peer at once). The topology, the publish schedule
// and the recorder stay in this process; peers report deliveries with the
// time they happened, on the machine's clock, which all processes share.
type ProcSwarm struct {
	system  string
	minWork int
	peers   []*procPeer
	run     atomic.Pointer[procRun]
	trip    atomic.Pointer[procTrip] // a round trip's, while it runs
}

// procRun is one load run's messages, as the peers' events name them.
type procRun struct {
	rec     *recorder
	index   map[intent.ID]int // intentcast: intent -> k
	bySig   map[uint64]int    // intentcast: sigTail -> k
	intents []*intent.SignedIntent
	keys    []intent.Keys
}

// ProcOptions say how to start a ProcSwarm's peers.
type ProcOptions struct {
	// Command runs ChildMain on its standard input and output, e.g. the
	// icbench binary with -child.
	Command []string
	// Env is added to the command's environment.
	Env []string
	// Payload is a raw peer's payload size; MinWork the intentcast
	// network's proof of work.
	Payload, MinWork int
	// Topics is how many topics a raw peer joins: 1 (or 0) for the load,
	// 2 for the round trip. Intentcast peers join their category's two.
	Topics int
}

// NewProcSwarm starts n peer processes of system (Raw, RawPolicy,
// IntentcastNoStem or Intentcast), wires them in the topology of seed and
// waits for their meshes.
func NewProcSwarm(ctx context.Context, system string, n int, seed uint64, o ProcOptions) (*ProcSwarm, error) {
	if len(o.Command) == 0 {
		return nil, errors.New("process swarm: no command to start a peer with")
	}
	s := &ProcSwarm{system: system, minWork: o.MinWork}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	for i := range n {
		p, err := s.startPeer(i, o)
		if err != nil {
			return nil, fmt.Errorf("peer %d: %w", i, err)
		}
		s.peers = append(s.peers, p)
	}
	infos := make([]peer.AddrInfo, n)
	err := s.each(ctx, func(p *procPeer) error {
		r, err := p.call(ctx, procMsg{Op: "start", System: system, Payload: o.Payload, MinWork: o.MinWork, Topics: o.Topics})
		if err == nil && r.Peer == nil {
			err = errors.New("start: no address in the reply")
		}
		if err == nil {
			infos[p.i], p.id = *r.Peer, r.Peer.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, js := range topology(n, seed) {
		var dial []peer.AddrInfo
		for _, j := range js {
			dial = append(dial, infos[j])
		}
		if _, err := s.peers[i].call(ctx, procMsg{Op: "dial", Dial: dial}); err != nil {
			return nil, fmt.Errorf("peer %d: %w", i, err)
		}
	}
	topics := rawTopics[:max(1, o.Topics)]
	if s.intentcast() {
		topics = icTopics()
	}
	if err := awaitMeshes(ctx, s.meshes, topics, meshTimeout(n)); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// each runs f on every peer at once and returns the first error.
func (s *ProcSwarm) each(ctx context.Context, f func(p *procPeer) error) error {
	errs := make([]error, len(s.peers))
	var wg sync.WaitGroup
	for i, p := range s.peers {
		wg.Go(func() {
			if err := f(p); err != nil {
				errs[i] = fmt.Errorf("peer %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// meshes is the meshView of the peer processes.
func (s *ProcSwarm) meshes(ctx context.Context) ([]peerMesh, int64, error) {
	ps := make([]peerMesh, len(s.peers))
	var changes atomic.Int64
	err := s.each(ctx, func(p *procPeer) error {
		r, err := p.call(ctx, procMsg{Op: "mesh"})
		if err != nil {
			return err
		}
		ps[p.i] = peerMesh{id: p.id, peers: r.Peers, mesh: make(map[string]map[peer.ID]bool, len(r.Mesh))}
		for topic, ids := range r.Mesh {
			m := make(map[peer.ID]bool, len(ids))
			for _, id := range ids {
				pid, err := peer.Decode(id)
				if err != nil {
					return fmt.Errorf("mesh: %w", err)
				}
				m[pid] = true
			}
			ps[p.i].mesh[topic] = m
		}
		changes.Add(r.Changes)
		return nil
	})
	return ps, changes.Load(), err
}

// System implements Swarm.
func (s *ProcSwarm) System() string { return s.system }

// Size implements Swarm.
func (s *ProcSwarm) Size() int { return len(s.peers) }

func (s *ProcSwarm) intentcast() bool { return s.system == Intentcast || s.system == IntentcastNoStem }

func (s *ProcSwarm) prepare(ctx context.Context, count int, rec *recorder) (time.Duration, error) {
	run := &procRun{rec: rec}
	var cpu time.Duration
	if s.intentcast() {
		ins, keys, c, err := mintIntents(ctx, count, s.minWork)
		if err != nil {
			return 0, err
		}
		run.intents, run.keys, cpu = ins, keys, c
		run.index, run.bySig = make(map[intent.ID]int, count), make(map[uint64]int, count)
		for k, in := range ins {
			run.index[in.ID] = k
			run.bySig[sigTail(in.Raw)] = k
		}
	}
	s.run.Store(run)
	ctx, cancel := context.WithTimeout(ctx, procCallTimeout)
	defer cancel()
	return cpu, s.each(ctx, func(p *procPeer) error {
		_, err := p.call(ctx, procMsg{Op: "run", Run: rec.id})
		return err
	})
}

func (s *ProcSwarm) publish(ctx context.Context, from, k int) error {
	if run := s.run.Load(); s.intentcast() {
		return s.publishIntent(ctx, from, k, run.intents[k], run.keys[k])
	}
	return s.publishIntent(ctx, from, k, nil, intent.Keys{})
}

// publishIntent has peer from publish message k: for intentcast the
// minted intent in and its keys, for raw a payload of its own.
func (s *ProcSwarm) publishIntent(ctx context.Context, from, k int, in *intent.SignedIntent, keys intent.Keys) error {
	m := procMsg{Op: "publish", K: k}
	if in != nil {
		m.Raw, m.SigningKey = in.Raw, keys.Signing.Seed()
		m.ReplyKey, m.ReplySuite = keys.Reply.Bytes(), uint16(keys.Reply.Suite())
	}
	_, err := s.peers[from].call(ctx, m)
	return err
}

// event records what a peer reported.
func (s *ProcSwarm) event(i int, m procMsg) {
	if m.Op == "step" || m.Op == "fail" {
		if t := s.trip.Load(); t != nil {
			t.event(m)
		}
		return
	}
	run := s.run.Load()
	if run == nil {
		return
	}
	k := m.K
	if s.intentcast() {
		var ok bool
		switch m.Op {
		case "got":
			if len(m.Intent) == len(intent.ID{}) {
				k, ok = run.index[intent.ID(m.Intent)]
			}
		case "sent":
			k, ok = run.bySig[m.Tail]
		}
		if !ok {
			return
		}
	}
	switch m.Op {
	case "got":
		run.rec.delivered(i, k, m.At)
		if m.Routed != 0 {
			run.rec.routedTo(i, k, m.Routed)
		}
	case "sent":
		run.rec.handedOff(i, k, m.At)
	}
}

// counters sums the peers' tracers; a peer that does not answer counts
// nothing (its failure shows in the run's publish errors and deliveries).
func (s *ProcSwarm) counters(ctx context.Context) routerCounters {
	ctx, cancel := context.WithTimeout(ctx, procCallTimeout)
	defer cancel()
	var mu sync.Mutex
	var sum routerCounters
	s.each(ctx, func(p *procPeer) error {
		r, err := p.call(ctx, procMsg{Op: "counters"})
		if err != nil || r.Counters == nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		sum = sum.add(*r.Counters)
		return nil
	})
	return sum
}

func (s *ProcSwarm) beginPhase(ctx context.Context) error {
	return s.each(ctx, func(p *procPeer) error {
		_, err := p.call(ctx, procMsg{Op: "begin"})
		return err
	})
}

// endPhase sums the peers' CPU time, peak memory, allocation and
// collections; its SchedP99 is the median of the peers'.
func (s *ProcSwarm) endPhase(ctx context.Context) (phaseStats, error) {
	phases := make([]phaseStats, len(s.peers))
	err := s.each(ctx, func(p *procPeer) error {
		r, err := p.call(ctx, procMsg{Op: "end"})
		if err == nil && r.Phase == nil {
			err = errors.New("end: no figures in the reply")
		}
		if err == nil {
			phases[p.i] = *r.Phase
		}
		return err
	})
	var sum phaseStats
	scheds := make([]time.Duration, len(phases))
	for i, ph := range phases {
		sum.CPU += ph.CPU
		sum.PeakHeap += ph.PeakHeap
		sum.PeakSys += ph.PeakSys
		sum.GC.Allocated += ph.GC.Allocated
		sum.GC.Cycles += ph.GC.Cycles
		scheds[i] = ph.SchedP99
	}
	sum.SchedP99 = median(scheds)
	return sum, err
}

// Close asks every peer to close and waits for its process to exit; one
// that does not within closeGrace is killed.
func (s *ProcSwarm) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	errs := make([]error, len(s.peers))
	var wg sync.WaitGroup
	for i, p := range s.peers {
		wg.Go(func() {
			if _, err := p.call(ctx, procMsg{Op: "close"}); err != nil {
				errs[i] = fmt.Errorf("peer %d: %w", i, err)
			}
			if err := p.stop(); err != nil && errs[i] == nil {
				errs[i] = fmt.Errorf("peer %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	s.peers = nil
	return errors.Join(errs...)
}

// closeGrace is how long a peer process has to close and exit.
const closeGrace = 30 * time.Second

// procPeer is one peer process and the requests awaiting its replies.
type procPeer struct {
	i     int
	id    peer.ID
	cmd   *exec.Cmd
	stdin io.WriteCloser
	read  chan struct{} // closed when its output ends

	// writing serialises requests on stdin. It is not mu: a write that
	// waits for a child busy writing its output must not keep readLoop
	// from taking that output.
	writing sync.Mutex

	mu      sync.Mutex // guards the fields below
	next    int64
	pending map[int64]chan procMsg
	ended   error // why its output ended
}

var errPeerExited = errors.New("peer process exited")

func (s *ProcSwarm) startPeer(i int, o ProcOptions) (*procPeer, error) {
	cmd := exec.Command(o.Command[0], o.Command[1:]...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Command[0], err)
	}
	p := &procPeer{i: i, cmd: cmd, stdin: stdin, read: make(chan struct{}), pending: make(map[int64]chan procMsg)}
	go p.readLoop(stdout, s)
	return p, nil
}

// readLoop hands replies to their callers and events to the swarm until
// the process's output ends; it ends with it (stop waits for it).
func (p *procPeer) readLoop(out io.Reader, s *ProcSwarm) {
	defer close(p.read)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var m procMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			p.fail(fmt.Errorf("%w: unreadable line %q: %v", errPeerExited, sc.Text(), err))
			return
		}
		if m.ID == 0 {
			s.event(p.i, m)
			continue
		}
		p.mu.Lock()
		c := p.pending[m.ID]
		delete(p.pending, m.ID)
		p.mu.Unlock()
		if c != nil {
			c <- m
		}
	}
	p.fail(fmt.Errorf("%w (output ended: %v)", errPeerExited, sc.Err()))
}

// fail ends every pending request with err, and every later one.
func (p *procPeer) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended == nil {
		p.ended = err
	}
	for id, c := range p.pending {
		delete(p.pending, id)
		c <- procMsg{ID: id, Err: p.ended.Error()}
	}
}

// call sends a request and waits for its reply.
func (p *procPeer) call(ctx context.Context, m procMsg) (procMsg, error) {
	c := make(chan procMsg, 1)
	p.mu.Lock()
	if p.ended != nil {
		p.mu.Unlock()
		return procMsg{}, p.ended
	}
	p.next++
	m.ID = p.next
	p.pending[m.ID] = c
	p.mu.Unlock()
	b, err := json.Marshal(m)
	if err == nil {
		p.writing.Lock()
		_, err = p.stdin.Write(append(b, '\n'))
		p.writing.Unlock()
	}
	if err != nil {
		p.mu.Lock()
		delete(p.pending, m.ID)
		p.mu.Unlock()
		return procMsg{}, fmt.Errorf("%s: %w", m.Op, err)
	}
	select {
	case r := <-c:
		if r.Err != "" {
			return r, fmt.Errorf("%s: %s", m.Op, r.Err)
		}
		return r, nil
	case <-ctx.Done():
		p.mu.Lock()
		delete(p.pending, m.ID)
		p.mu.Unlock()
		return procMsg{}, fmt.Errorf("%s: %w", m.Op, ctx.Err())
	}
}

// stop closes the process's input (ChildMain returns on it) and waits for
// it to exit, killing it after closeGrace.
func (p *procPeer) stop() error {
	p.stdin.Close()
	select {
	case <-p.read:
	case <-time.After(closeGrace):
		p.cmd.Process.Kill()
		<-p.read
	}
	return p.cmd.Wait()
}
