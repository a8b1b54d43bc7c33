package node

// Helpers shared by the reliability tests (*_reliability_test.go: restarts,
// partitions, floods, clock skew; docs/RELIABILITY.md). Each has a quick
// variant that always runs and a long one for INTENTCAST_LONG=1.

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	icrypto "github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// survLong reports whether the long variants were asked for.
func survLong() bool { return os.Getenv("INTENTCAST_LONG") != "" }

// closedAt is when the node first disconnected p (zero if never).
func (s *survScores) closedAt(p peer.ID) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstOut[p]
}

// survScores follows the scores one node gives its peers
// (Config.OnPeerScores): the latest, the lowest ever, when each peer first
// fell below the graylist threshold, and how often the node disconnected it.
type survScores struct {
	mu       sync.Mutex
	latest   map[peer.ID]float64
	lowest   map[peer.ID]float64
	graylist map[peer.ID]time.Time
	closed   map[peer.ID]int
	firstOut map[peer.ID]time.Time // the reading that first disconnected it
}

func newSurvScores() *survScores {
	return &survScores{latest: map[peer.ID]float64{}, lowest: map[peer.ID]float64{}, graylist: map[peer.ID]time.Time{}, closed: map[peer.ID]int{}, firstOut: map[peer.ID]time.Time{}}
}

// closedCount is how many times the node disconnected p for graylisting.
func (s *survScores) closedCount(p peer.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed[p]
}

func (s *survScores) update(r PeerScores) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range r.Closed {
		if s.closed[p] == 0 {
			s.firstOut[p] = r.At
		}
		s.closed[p]++
	}
	for p, v := range r.Scores {
		s.latest[p] = v
		if low, ok := s.lowest[p]; !ok || v < low {
			s.lowest[p] = v
		}
		if _, ok := s.graylist[p]; !ok && v < graylistThreshold {
			s.graylist[p] = now
		}
	}
}

// get returns the latest score of p, its lowest, and when it was first
// graylisted (zero if never).
func (s *survScores) get(p peer.ID) (latest, lowest float64, graylisted time.Time, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	latest, known = s.latest[p]
	return latest, s.lowest[p], s.graylist[p], known
}

// survCPU is the process's CPU time so far (user and system).
func survCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// survHeap is the live heap after a collection, in bytes.
func survHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// survPercentile returns the p-th percentile (0..100) of ds.
func survPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1)*p/100 + 0.5)
	return s[min(i, len(s)-1)]
}

// survEnc is a Core Deterministic encoder of our own, for forging bodies
// the intent package would refuse to make.
var survEnc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// survForge re-encodes base's body after edit, mints work bits if mint,
// and signs the result with sk: an intent as an attacker can make it.
func survForge(t testing.TB, base *intent.SignedIntent, sk icrypto.SigningKey, mint bool, edit func(*intent.Intent)) []byte {
	t.Helper()
	body := base.Body
	body.Path = slices.Clone(body.Path)
	body.Nonce = make([]byte, intent.NonceSize)
	edit(&body)
	payload, err := survEnc.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if mint {
		if err := intent.Mint(context.Background(), payload, int(body.Work), nil); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := icrypto.Sign1(sk, intent.ContentIntent, payload)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// survDraft is an intent draft in category, created at now, with a text
// that makes it unique.
func survDraft(category, text string, now time.Time) intent.Draft {
	return intent.Draft{
		Category: category,
		Path:     []string{"laptops"},
		Text:     text,
		Want:     intent.Want{Quantity: 1, MaxPrice: 120000, Currency: "EUR", Region: "DE"},
		Terms:    intent.DefaultTerms(),
		Created:  now,
		Expires:  now.Add(72 * time.Hour),
		Work:     testPolicy.MinWork,
	}
}

// survMint mints an intent from d.
func survMint(t testing.TB, d intent.Draft) (*intent.SignedIntent, intent.Keys) {
	t.Helper()
	in, keys, err := intent.NewIntent(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return in, keys
}

// survArrivals records when each node's event feed reported each intent.
type survArrivals struct {
	mu  sync.Mutex
	got map[intent.ID]map[int]time.Time // intent -> node index -> first event
	// lost counts subscriptions the broker dropped for falling behind: the
	// events they missed would count as undelivered.
	lost int
}

func newSurvArrivals() *survArrivals {
	return &survArrivals{got: map[intent.ID]map[int]time.Time{}}
}

// follow records node i's intent events until ctx ends.
func (a *survArrivals) follow(ctx context.Context, wg *sync.WaitGroup, i int, n *Node) {
	sub := n.Subscribe()
	wg.Go(func() {
		defer func() { sub.Close() }()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C:
				if !ok {
					a.mu.Lock()
					a.lost++
					a.mu.Unlock()
					sub = n.Subscribe()
					continue
				}
				if e.Kind != EventIntent {
					continue
				}
				now := time.Now()
				a.mu.Lock()
				m := a.got[e.IntentID]
				if m == nil {
					m = map[int]time.Time{}
					a.got[e.IntentID] = m
				}
				if _, ok := m[i]; !ok {
					m[i] = now
				}
				a.mu.Unlock()
			}
		}
	})
}

// at returns when node i got intent id.
func (a *survArrivals) at(id intent.ID, i int) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.got[id][i]
	return t, ok
}

// survQuietLogger logs errors only: under a flood, warnings (peers that
// misbehave, slow subscribers) are the expected case.
func survQuietLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
}

// survRejects is a pubsub.RawTracer that counts, for one node, why its
// router dropped messages (pubsub.RejectValidationThrottled,
// RejectValidationQueueFull, ...) and remembers the reason per message.
type survRejects struct {
	noTrace
	mu      sync.Mutex
	reasons map[string]int
	byID    map[intent.ID]string // message ID -> reason
}

func (r *survRejects) RejectMessage(m *pubsub.Message, reason string) {
	id := intent.IDOf(m.GetData())
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reasons == nil {
		r.reasons, r.byID = map[string]int{}, map[intent.ID]string{}
	}
	r.reasons[reason]++
	r.byID[id] = reason
}

// reason returns why the router dropped message id ("" if it did not).
func (r *survRejects) reason(id intent.ID) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// DropRPC counts RPCs the router dropped because a peer's outbound queue
// was full, under the reason "outbound queue full".
func (r *survRejects) DropRPC(rpc *pubsub.RPC, _ peer.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reasons == nil {
		r.reasons, r.byID = map[string]int{}, map[intent.ID]string{}
	}
	r.reasons["outbound queue full"] += max(1, len(rpc.GetPublish()))
	for _, m := range rpc.GetPublish() {
		r.byID[intent.IDOf(m.GetData())] = "outbound queue full"
	}
}

func (r *survRejects) count(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reasons[reason]
}

func (r *survRejects) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.reasons)
}

// survMesh is a pubsub.RawTracer that follows one node's mesh on every
// topic, including the peers the router drops from it silently when their
// connection closes (it traces no Prune for those; node_test.go's
// meshTracer misses them, which is enough for a network that only grows).
type survMesh struct {
	noTrace
	mu   sync.Mutex
	mesh map[string]map[peer.ID]bool
}

func (m *survMesh) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh == nil {
		m.mesh = map[string]map[peer.ID]bool{}
	}
	if m.mesh[topic] == nil {
		m.mesh[topic] = map[peer.ID]bool{}
	}
	m.mesh[topic][p] = true
}

func (m *survMesh) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
}

func (m *survMesh) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, peers := range m.mesh {
		delete(peers, p)
	}
}

func (m *survMesh) has(topic string, p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mesh[topic][p]
}

// survAwaitFullMeshes waits until every node has every connected
// subscriber of every topic in its mesh, and is in theirs: in a network
// where no node has more peers than gossipsub's D_lo, the meshes are then
// the whole connection graph and a message reaches every node by gossip.
func survAwaitFullMeshes(t *testing.T, nodes []*Node, meshes []*survMesh, timeout time.Duration) {
	t.Helper()
	index := map[peer.ID]int{}
	for i, n := range nodes {
		index[n.ID()] = i
	}
	eventually(t, timeout, "every node's meshes hold all its peers, both ways", func() bool {
		for i, n := range nodes {
			for name, tp := range n.topics {
				for _, p := range tp.ListPeers() {
					j, ok := index[p]
					if !ok || !meshes[i].has(name, p) || !meshes[j].has(name, n.ID()) {
						return false
					}
				}
			}
		}
		return true
	})
}
