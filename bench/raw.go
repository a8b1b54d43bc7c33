package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
)

// rawTopics are the raw swarm's topics: the first carries the load; the
// second carries the offers and accepts of the round trip.
var rawTopics = []string{"bench/raw/intents", "bench/raw/offers"}

// Raw message header: run ID, message index, kind, vendor (round trip).
const (
	rawHeader  = 13
	kindIntent = 0
	kindOffer  = 1
	kindAccept = 2
)

// RawSwarm is plain go-libp2p-pubsub gossipsub with its default settings
// (which sign every message with the peer's Ed25519 key and verify it on
// receipt, and take the message ID from the author and sequence number), and
// no validator. With the policy option it uses intentcast's message policy
// instead (StrictNoSign, WithNoAuthor, SHA-256 of the payload as the message
// ID): the floor of what intentcast could reach on the same router.
type RawSwarm struct {
	system  string
	hosts   []host.Host
	tracers []*tracer
	topics  [][]*pubsub.Topic // peer -> topic
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	payloadSize int
	rec         atomic.Pointer[recorder]
	payloads    [][]byte
	// hook, if set, sees every message every peer delivers (round trip).
	hook atomic.Pointer[func(peer, topic int, data []byte)]
}

// NewRawSwarm starts n raw gossipsub peers joined to topics topics (1 for
// the load, 2 for the round trip) in the sparse topology of seed, and waits
// for their meshes. Payloads are payloadSize bytes.
func NewRawSwarm(ctx context.Context, n, topics, payloadSize int, seed uint64) (*RawSwarm, error) {
	return newRawSwarm(ctx, n, topics, payloadSize, seed, false)
}

// NewRawPolicySwarm is NewRawSwarm with intentcast's message policy.
func NewRawPolicySwarm(ctx context.Context, n, topics, payloadSize int, seed uint64) (*RawSwarm, error) {
	return newRawSwarm(ctx, n, topics, payloadSize, seed, true)
}

// contentID is intentcast's message ID: the SHA-256 of the payload.
func contentID(m *pb.Message) string {
	sum := sha256.Sum256(m.Data)
	return string(sum[:])
}

// rawOptions are a raw peer's router options: go-libp2p-pubsub's
// defaults, or with policy intentcast's message policy.
func rawOptions(tr *tracer, policy bool) []pubsub.Option {
	opts := []pubsub.Option{pubsub.WithRawTracer(tr)}
	if policy {
		opts = append(opts, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(),
			pubsub.WithMessageIdFn(contentID))
	}
	return opts
}

func newRawSwarm(ctx context.Context, n, topics, payloadSize int, seed uint64, policy bool) (*RawSwarm, error) {
	if payloadSize < rawHeader {
		return nil, fmt.Errorf("payload size %d is below the %d-byte header", payloadSize, rawHeader)
	}
	s := &RawSwarm{payloadSize: payloadSize, system: Raw}
	if policy {
		s.system = RawPolicy
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
		ps, err := pubsub.NewGossipSub(life, h, rawOptions(tr, policy)...)
		if err != nil {
			return nil, fmt.Errorf("gossipsub: %w", err)
		}
		s.tracers = append(s.tracers, tr)
		var ts []*pubsub.Topic
		for j, name := range rawTopics[:topics] {
			t, err := ps.Join(name)
			if err != nil {
				return nil, fmt.Errorf("join %s: %w", name, err)
			}
			// The subscriber's buffer is the subscriber's choice, not a
			// router setting: the same 1024 as a node's.
			sub, err := t.Subscribe(pubsub.WithBufferSize(1024))
			if err != nil {
				return nil, fmt.Errorf("subscribe %s: %w", name, err)
			}
			ts = append(ts, t)
			s.wg.Go(func() { s.read(life, i, j, sub) })
		}
		s.topics = append(s.topics, ts)
	}
	if err := connect(ctx, s.hosts, seed); err != nil {
		return nil, err
	}
	if err := awaitMeshes(ctx, localMeshes(s.hosts, s.tracers, rawTopics[:topics]), rawTopics[:topics], meshTimeout(n)); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// onSend notes when peer i first queues one of its own messages for a peer.
func (s *RawSwarm) onSend(i int) func(data []byte) {
	return func(data []byte) {
		if rec, k, ok := s.runMessage(data); ok {
			rec.handedOff(i, k, now())
		}
	}
}

// onDeliver notes when peer i's router delivers a message of the run.
func (s *RawSwarm) onDeliver(i int) func(topic string, data []byte) {
	return func(topic string, data []byte) {
		if topic != rawTopics[0] {
			return
		}
		if rec, k, ok := s.runMessage(data); ok {
			rec.routedTo(i, k, now())
		}
	}
}

// runMessage returns the current run's recorder and the index of data in
// it, if data is one of the run's messages.
func (s *RawSwarm) runMessage(data []byte) (*recorder, int, bool) {
	rec := s.rec.Load()
	if rec == nil {
		return nil, 0, false
	}
	k, ok := rawIndex(data, rec.id)
	return rec, k, ok
}

// meshTimeout is how long a swarm of n peers may take to settle.
func meshTimeout(n int) time.Duration { return 30*time.Second + time.Duration(n)*200*time.Millisecond }

func (s *RawSwarm) read(ctx context.Context, peer, topic int, sub *pubsub.Subscription) {
	defer sub.Cancel()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		at := now()
		if h := s.hook.Load(); h != nil {
			(*h)(peer, topic, m.Data)
		}
		if topic != 0 {
			continue
		}
		if rec, k, ok := s.runMessage(m.Data); ok {
			rec.delivered(peer, k, at)
		}
	}
}

// System implements Swarm.
func (s *RawSwarm) System() string { return s.system }

// Size implements Swarm.
func (s *RawSwarm) Size() int { return len(s.hosts) }

// rawIndex returns the message index of a payload of run; ok is false for
// any other payload.
func rawIndex(data []byte, run uint32) (k int, ok bool) {
	if len(data) < rawHeader || binary.BigEndian.Uint32(data) != run {
		return 0, false
	}
	return int(binary.BigEndian.Uint32(data[4:])), true
}

// rawPayload is a payload of size bytes: the header, then random bytes.
func rawPayload(size int, run uint32, k int, kind byte, vendor int) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, run)
	binary.BigEndian.PutUint32(p[4:], uint32(k))
	p[8] = kind
	binary.BigEndian.PutUint32(p[9:], uint32(vendor))
	rand.Read(p[rawHeader:])
	return p
}

func (s *RawSwarm) prepare(_ context.Context, count int, rec *recorder) (time.Duration, error) {
	c0 := cpuTime()
	s.payloads = make([][]byte, count)
	for k := range s.payloads {
		s.payloads[k] = rawPayload(s.payloadSize, rec.id, k, kindIntent, 0)
	}
	s.rec.Store(rec)
	return cpuTime() - c0, nil
}

func (s *RawSwarm) publish(ctx context.Context, from, k int) error {
	return s.topics[from][0].Publish(ctx, s.payloads[k])
}

// traceHops implements hopTracing.
func (s *RawSwarm) traceHops(l *HopLog) { tapTracers(s.tracers, s.hosts, l) }

func (s *RawSwarm) counters(context.Context) routerCounters { return sumTracers(s.tracers) }

// Close implements Swarm.
func (s *RawSwarm) Close() error {
	if s.cancel != nil {
		s.cancel() // stops the routers and the readers
	}
	s.wg.Wait()
	return closeHosts(s.hosts)
}
