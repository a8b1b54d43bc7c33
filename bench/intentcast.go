package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// benchCategory is the one category every intentcast peer serves: two
// topics (its intents and its offers) per peer.
const benchCategory = "electronics"

// DefaultMinWork is the proof of work of the benchmark's network: low, so
// that minting (which is the customer's cost, measured apart) does not
// dominate; the check costs one hash whatever the work.
const DefaultMinWork = 8

// benchDraft is a realistic intent (about 350 bytes signed), unique per k.
func benchDraft(k int, created time.Time, work int) intent.Draft {
	return intent.Draft{
		Category: benchCategory,
		Path:     []string{"laptops"},
		Text:     fmt.Sprintf("light 14-inch laptop, 16 GB, no refurbished; request %07d", k),
		Want:     intent.Want{Quantity: 1, MaxPrice: 120000, Currency: "EUR", Region: "DE"},
		Terms:    intent.DefaultTerms(),
		Created:  created,
		Expires:  created.Add(2 * time.Hour),
		Work:     work,
	}
}

// mintIntents makes count intents on every core and returns them with their
// keys and the CPU time it took.
func mintIntents(ctx context.Context, count, work int) ([]*intent.SignedIntent, []intent.Keys, time.Duration, error) {
	ins := make([]*intent.SignedIntent, count)
	keys := make([]intent.Keys, count)
	created := time.Now().Truncate(time.Second)
	c0 := cpuTime()
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= count {
					return
				}
				in, ks, err := intent.NewIntent(ctx, benchDraft(k, created, work), nil)
				if err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					return
				}
				ins[k], keys[k] = in, ks
			}
		})
	}
	wg.Wait()
	return ins, keys, cpuTime() - c0, firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// SignedIntentSize is the size of a benchmark intent on the wire, the
// payload size of the raw swarm.
func SignedIntentSize() (int, error) {
	ins, _, _, err := mintIntents(context.Background(), 1, DefaultMinWork)
	if err != nil {
		return 0, err
	}
	return len(ins[0].Raw), nil
}

// ICSwarm is N intentcast nodes (node.Node) on hosts built like the raw
// swarm's.
type ICSwarm struct {
	hosts   []host.Host
	tracers []*tracer
	nodes   []*node.Node
	minWork int
	system  string
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	dataDir  string // parent of the nodes' data directories; "" for temporary ones
	run      atomic.Pointer[icRun]
	subDrops atomic.Int64 // event subscriptions the node dropped for falling behind
	// hook, if set, sees every event of every node (round trip).
	hook atomic.Pointer[func(peer int, e node.Event)]
}

type icRun struct {
	rec     *recorder
	index   map[intent.ID]int
	bySig   map[uint64]int // sigTail of each intent -> k
	intents []*intent.SignedIntent
	keys    []intent.Keys
}

// quietLogger keeps the nodes' logs to errors.
var quietLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// NewICSwarm starts n intentcast nodes serving one category, with
// Policy.MinWork minWork, in the sparse topology of seed, and waits for
// their meshes on both of the category's topics.
func NewICSwarm(ctx context.Context, n, minWork int, seed uint64) (*ICSwarm, error) {
	return NewICSwarmWith(ctx, n, seed, ICOptions{MinWork: minWork})
}

// ICOptions vary the intentcast swarm.
type ICOptions struct {
	MinWork int
	// NoStem sends each node's own intents straight into gossip
	// (node.Config.DisableStem) instead of through the stem phase that hides
	// their origin: the gossip path alone, as raw gossipsub has it.
	NoStem bool
	// DataDir, if set, holds the nodes' stores (in a directory removed at
	// Close) instead of each node's own temporary directory. Pointing it at
	// a tmpfs (/dev/shm) takes the disk out of the measurement.
	DataDir string
}

// NewICSwarmWith is NewICSwarm with options.
func NewICSwarmWith(ctx context.Context, n int, seed uint64, o ICOptions) (*ICSwarm, error) {
	s := &ICSwarm{minWork: o.MinWork, system: Intentcast}
	if o.NoStem {
		s.system = IntentcastNoStem
	}
	if o.DataDir != "" {
		s.system += ", stores in RAM"
	}
	minWork := o.MinWork
	if dir := o.DataDir; dir != "" {
		d, err := os.MkdirTemp(dir, "icbench-")
		if err != nil {
			return nil, err
		}
		s.dataDir = d
	}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var err error
	if s.hosts, err = newHosts(n); err != nil {
		return nil, err
	}
	for i, h := range s.hosts {
		tr := &tracer{onSend: s.onSend(i), onDeliver: s.onDeliver(i)}
		nd, err := node.New(ctx, benchNodeConfig(h, tr, minWork, o.NoStem, s.nodeDir(i)))
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		s.tracers = append(s.tracers, tr)
		s.nodes = append(s.nodes, nd)
		s.wg.Go(func() { s.read(life, i, nd) })
	}
	if err := connect(ctx, s.hosts, seed); err != nil {
		return nil, err
	}
	topics := icTopics()
	if err := awaitMeshes(ctx, localMeshes(s.hosts, s.tracers, topics), topics, meshTimeout(n)); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// benchNodeConfig is the configuration of every intentcast peer of the
// bench, in this process (ICSwarm) or a process of its own (ChildMain):
// one category, the network's work, no mDNS, errors-only logs. dir ""
// gives the node a temporary store.
func benchNodeConfig(h host.Host, tr *tracer, minWork int, noStem bool, dir string) node.Config {
	return node.Config{
		Host:        h,
		Tracer:      tr,
		DisableMDNS: true,
		Categories:  []string{benchCategory},
		Policy:      intent.Policy{MinWork: minWork, MinOfferWork: minWork},
		Logger:      quietLogger,
		DataDir:     dir,
		DisableStem: noStem,
	}
}

// icTopics are the topics whose meshes an intentcast swarm awaits.
func icTopics() []string {
	return []string{intent.IntentTopic(benchCategory), intent.OfferTopic(benchCategory)}
}

// onSend notes when a message is first queued for gossip by any peer: the
// publisher, or with the stem on, the peer at the end of the stem. The last
// 8 bytes of an intent (the end of its signature) tell the run's intents
// apart without hashing everything every peer forwards.
func (s *ICSwarm) onSend(i int) func(data []byte) {
	return func(data []byte) {
		if rec, k, ok := s.runIntent(data); ok {
			rec.handedOff(i, k, now())
		}
	}
}

// onDeliver notes when peer i's router delivers one of the run's intents
// to the node, before the node's own handling and its event.
func (s *ICSwarm) onDeliver(i int) func(topic string, data []byte) {
	return func(_ string, data []byte) {
		if rec, k, ok := s.runIntent(data); ok {
			rec.routedTo(i, k, now())
		}
	}
}

// runIntent returns the current run's recorder and the index of data in
// it, if data is one of the run's intents.
func (s *ICSwarm) runIntent(data []byte) (*recorder, int, bool) {
	run := s.run.Load()
	if run == nil || len(data) < 8 {
		return nil, 0, false
	}
	k, ok := run.bySig[sigTail(data)]
	return run.rec, k, ok
}

func sigTail(raw []byte) uint64 { return binary.LittleEndian.Uint64(raw[len(raw)-8:]) }

func (s *ICSwarm) nodeDir(i int) string {
	if s.dataDir == "" {
		return ""
	}
	return filepath.Join(s.dataDir, fmt.Sprint(i))
}

// read follows one node's events. The node drops a subscriber that falls
// 256 events behind; read then counts the drop and subscribes again.
func (s *ICSwarm) read(ctx context.Context, peer int, nd *node.Node) {
	for ctx.Err() == nil {
		sub := nd.Subscribe()
		for e := range sub.C {
			at := now()
			if h := s.hook.Load(); h != nil {
				(*h)(peer, e)
			}
			if e.Kind != node.EventIntent {
				continue
			}
			if run := s.run.Load(); run != nil {
				if k, ok := run.index[e.IntentID]; ok {
					run.rec.delivered(peer, k, at)
				}
			}
		}
		sub.Close()
		if ctx.Err() == nil {
			s.subDrops.Add(1)
		}
	}
}

// System implements Swarm.
func (s *ICSwarm) System() string { return s.system }

// Size implements Swarm.
func (s *ICSwarm) Size() int { return len(s.nodes) }

// Nodes returns the swarm's nodes.
func (s *ICSwarm) Nodes() []*node.Node { return s.nodes }

func (s *ICSwarm) prepare(ctx context.Context, count int, rec *recorder) (time.Duration, error) {
	ins, keys, cpu, err := mintIntents(ctx, count, s.minWork)
	if err != nil {
		return 0, err
	}
	run := &icRun{rec: rec, index: make(map[intent.ID]int, count), bySig: make(map[uint64]int, count), intents: ins, keys: keys}
	for k, in := range ins {
		run.index[in.ID] = k
		run.bySig[sigTail(in.Raw)] = k
	}
	s.run.Store(run)
	return cpu, nil
}

// publish goes through the node's own publish path for a minted intent:
// the durable store write of the intent and its keys, the local validator
// (which every gossip message also passes), then gossipsub.
func (s *ICSwarm) publish(ctx context.Context, from, k int) error {
	run := s.run.Load()
	return s.nodes[from].PublishMinted(ctx, run.intents[k], run.keys[k])
}

// traceHops implements hopTracing.
func (s *ICSwarm) traceHops(l *HopLog) { tapTracers(s.tracers, s.hosts, l) }

func (s *ICSwarm) counters(context.Context) routerCounters { return sumTracers(s.tracers) }

// Close implements Swarm.
func (s *ICSwarm) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	var errs []error
	for _, n := range s.nodes {
		errs = append(errs, n.Close())
	}
	s.wg.Wait()
	errs = append(errs, closeHosts(s.hosts))
	if s.dataDir != "" {
		errs = append(errs, os.RemoveAll(s.dataDir))
	}
	return errors.Join(errs...)
}
