package node

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// TestConformancePeer plays a peer built only from docs/PROTOCOL.md (its
// Conformance section for the gossip settings, its message rules for the
// bytes): plain go-libp2p and go-libp2p-pubsub, and messages encoded here
// with a generic CBOR library, crypto/ed25519 and SHA-256. Nothing of this
// package or of intent and crypto is on its path. Against a live node it
// meshes, receives the node's intent, publishes its own intent (which the
// node shows), a version 2 intent with a new field (ignored, no penalty),
// and invalid ones (penalised).
func TestConformancePeer(t *testing.T) {
	board := &timedScores{}
	trace := &verdictTracer{}
	cfg := nodeConfig(t)
	cfg.OnPeerScores = board.update
	live := startNode(t, cfg, pubsub.WithRawTracer(trace))
	events := live.Subscribe()
	defer events.Close()

	sp := newSpecPeer(t, cfg.Categories)
	if err := sp.h.Connect(t.Context(), peer.AddrInfo{ID: live.ID(), Addrs: live.Addrs()}); err != nil {
		t.Fatal(err)
	}
	intents := "intentcast/1/intents/electronics"

	// It meshes: each side grafts the other on the intents topic.
	eventually(t, 20*time.Second, "the spec peer and the node graft each other", func() bool {
		v, _ := tracers.Load(live)
		node := v.(*meshTracer)
		node.mu.Lock()
		nodeHas := node.meshs[intents][sp.h.ID()]
		node.mu.Unlock()
		return nodeHas && sp.tr.grafted(live.ID(), intents)
	})

	// It receives the node's intent, with nothing naming the node, and
	// can check it by the spec: the ID, the envelope, the signature.
	in, err := live.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := sp.next(t, intents, in.ID[:])
	if pm := got.Message; pm.From != nil || pm.Seqno != nil || pm.Signature != nil || pm.Key != nil {
		t.Fatalf("the node's message carries from %x, seqno %x, signature %x, key %x", pm.From, pm.Seqno, pm.Signature, pm.Key)
	}
	if err := specVerify(got.Data, "intentcast/intent"); err != nil {
		t.Fatalf("the node's intent does not verify by the spec: %v", err)
	}

	// It publishes its own intent, minted to the network's minimum work
	// (the node's configuration: 4 bits), which the node shows.
	work := cfg.Policy.MinWork
	mine := specIntent(t, 1, work, nil, false)
	sp.publish(t, intents, mine)
	id := sha256.Sum256(mine)
	awaitEvent(t, events, "the node shows the spec peer's intent", func(e Event) bool {
		return e.Kind == EventIntent && e.IntentID == id
	})

	// Version 2 with a new field, otherwise valid: ignored, not penalised.
	v2 := specIntent(t, 2, work, []byte{0x69, 'g', 'i', 'f', 't', '-', 'w', 'r', 'a', 'p'}, false)
	sp.publish(t, intents, v2)
	at := trace.await(t, v2, pubsub.RejectValidationIgnored)
	eventually(t, 10*time.Second, "a score update after the version 2 intent", func() bool { return board.since(at) })
	if s, ok := board.get(sp.h.ID()); !ok || s < 0 {
		t.Fatalf("after a well-formed version 2 intent the node scores the spec peer %v (known %v), want >= 0", s, ok)
	}

	// Version 2 with a bad signature, and a version 1 intent with a bad
	// signature: both rejected, and the peer penalised down to graylist.
	badV2 := specIntent(t, 2, work, []byte{0x69, 'g', 'i', 'f', 't', '-', 'w', 'r', 'a', 'p'}, true)
	badV1 := specIntent(t, 1, work, nil, true)
	sp.publish(t, intents, badV2)
	sp.publish(t, intents, badV1)
	trace.await(t, badV2, pubsub.RejectValidationFailed)
	trace.await(t, badV1, pubsub.RejectValidationFailed)
	eventually(t, 10*time.Second, "the node graylists the spec peer", func() bool {
		s, ok := board.get(sp.h.ID())
		return ok && s < graylistThreshold
	})
}

// specPeer is a gossipsub peer configured as docs/PROTOCOL.md's
// Conformance section says, with literal values from it.
type specPeer struct {
	h      host.Host
	tr     *specTracer
	topics map[string]*pubsub.Topic
	subs   map[string]*pubsub.Subscription
}

func newSpecPeer(t *testing.T, categories []string) *specPeer {
	t.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	meshsub := protocol.ID("/intentcast/meshsub/1.2.0")
	features := func(f pubsub.GossipSubFeature, p protocol.ID) bool {
		return p == meshsub && (f == pubsub.GossipSubFeatureMesh || f == pubsub.GossipSubFeaturePX || f == pubsub.GossipSubFeatureIdontwant)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tr := &specTracer{}
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithGossipSubProtocols([]protocol.ID{meshsub}, features),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { s := sha256.Sum256(m.Data); return string(s[:]) }),
		pubsub.WithFloodPublish(false),
		pubsub.WithMaxMessageSize(66560),
		pubsub.WithRawTracer(tr),
	)
	if err != nil {
		t.Fatal(err)
	}
	sp := &specPeer{h: h, tr: tr, topics: map[string]*pubsub.Topic{}, subs: map[string]*pubsub.Subscription{}}
	for _, c := range categories {
		for _, kind := range []string{"intents", "offers"} {
			name := "intentcast/1/" + kind + "/" + c
			tp, err := ps.Join(name)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := tp.Subscribe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sub.Cancel)
			sp.topics[name], sp.subs[name] = tp, sub
		}
	}
	return sp
}

// next returns the first message on topic whose ID (SHA-256 of its data)
// is id.
func (sp *specPeer) next(t *testing.T, topic string, id []byte) *pubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), max(20*time.Second, patience))
	defer cancel()
	for {
		m, err := sp.subs[topic].Next(ctx)
		if err != nil {
			t.Fatalf("no message %x on %s: %v", id, topic, err)
		}
		if sum := sha256.Sum256(m.Data); bytes.Equal(sum[:], id) {
			return m
		}
	}
}

func (sp *specPeer) publish(t *testing.T, topic string, data []byte) {
	t.Helper()
	if err := sp.topics[topic].Publish(t.Context(), data); err != nil {
		t.Fatal(err)
	}
}

// The spec's encoding: CBOR Core Deterministic Encoding, integer keys.
var specEnc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// specIntent builds an intent as docs/PROTOCOL.md describes it (Intent,
// Want, Terms, ReplyKey, Proof of work, Signatures): version, with extra as
// the value of a key 12 if given, minted to work bits, its signature
// broken if bad.
func specIntent(t *testing.T, version, work int, extra []byte, bad bool) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	payload := map[uint64]any{
		0:  version,
		1:  "electronics",
		3:  "a conformance test wants a laptop",
		4:  map[uint64]any{0: 1, 1: 100000, 2: "EUR"},
		5:  map[uint64]any{0: []uint64{1, 2, 3}},
		6:  now - 60,
		7:  now + 3600,
		8:  []byte(pub),
		9:  map[uint64]any{0: 0x0020, 1: reply.PublicKey().Bytes()},
		10: work,
		11: make([]byte, 8),
	}
	if extra != nil {
		payload[12] = cbor.RawMessage(extra)
	}
	// Proof of work: SHA-256("intentcast/1/pow" || 0x00 || payload) has
	// work leading zero bits; the nonce is key 11.
	var p []byte
	for n := uint64(0); ; n++ {
		payload[11] = binary.BigEndian.AppendUint64(nil, n)
		if p, err = specEnc.Marshal(payload); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(append([]byte("intentcast/1/pow\x00"), p...))
		if leadingZeroBits(h[:]) >= work {
			break
		}
	}
	return specSign1(t, priv, "intentcast/intent", p, bad)
}

// specSign1 is the spec's COSE_Sign1 profile: tag 18, then
// [protected {1: -8, 3: content type}, {}, payload, Ed25519 signature of
// ["Signature1", protected, h”, payload]].
func specSign1(t *testing.T, priv ed25519.PrivateKey, contentType string, payload []byte, bad bool) []byte {
	t.Helper()
	protected, err := specEnc.Marshal(map[int]any{1: -8, 3: contentType})
	if err != nil {
		t.Fatal(err)
	}
	toSign, err := specEnc.Marshal([]any{"Signature1", protected, []byte{}, payload})
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(priv, toSign)
	if bad {
		sig[len(sig)-1] ^= 0x01
	}
	body, err := specEnc.Marshal([]any{protected, map[int]any{}, payload, sig})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{0xd2}, body...)
}

// specVerify checks a received COSE_Sign1 by the spec: its content type,
// and its signature under the payload's key 8.
func specVerify(raw []byte, contentType string) error {
	if len(raw) == 0 || raw[0] != 0xd2 {
		return errString("not tag 18")
	}
	var msg []cbor.RawMessage
	if err := cbor.Unmarshal(raw[1:], &msg); err != nil || len(msg) != 4 {
		return errString("not a 4-element array")
	}
	var protected, payload, sig []byte
	if cbor.Unmarshal(msg[0], &protected) != nil || cbor.Unmarshal(msg[2], &payload) != nil || cbor.Unmarshal(msg[3], &sig) != nil {
		return errString("envelope fields are not byte strings")
	}
	var hdr map[int]any
	if err := cbor.Unmarshal(protected, &hdr); err != nil || hdr[3] != contentType {
		return errString("content type is not " + contentType)
	}
	var body map[uint64]cbor.RawMessage
	var key []byte
	if cbor.Unmarshal(payload, &body) != nil || cbor.Unmarshal(body[8], &key) != nil || len(key) != ed25519.PublicKeySize {
		return errString("no 32-byte key 8")
	}
	toSign, err := specEnc.Marshal([]any{"Signature1", protected, []byte{}, payload})
	if err != nil {
		return err
	}
	if !ed25519.Verify(key, toSign, sig) {
		return errString("signature does not verify under key 8")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

func leadingZeroBits(h []byte) int {
	n := 0
	for _, b := range h {
		if b != 0 {
			return n + bits.LeadingZeros8(b)
		}
		n += 8
	}
	return n
}

// specTracer records the spec peer's grafts.
type specTracer struct {
	noTrace
	mu   sync.Mutex
	mesh map[string]map[peer.ID]bool
}

func (tr *specTracer) Graft(p peer.ID, topic string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.mesh == nil {
		tr.mesh = map[string]map[peer.ID]bool{}
	}
	if tr.mesh[topic] == nil {
		tr.mesh[topic] = map[peer.ID]bool{}
	}
	tr.mesh[topic][p] = true
}

func (tr *specTracer) Prune(p peer.ID, topic string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	delete(tr.mesh[topic], p)
}

func (tr *specTracer) grafted(p peer.ID, topic string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.mesh[topic][p]
}

// verdictTracer records, on the live node, why each message was rejected
// or ignored (pubsub.RejectValidationFailed, RejectValidationIgnored), by
// message data, and when.
type verdictTracer struct {
	testTracer
	mu      sync.Mutex
	reasons map[string]string
	at      map[string]time.Time
}

func (tr *verdictTracer) RejectMessage(m *pubsub.Message, reason string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.reasons == nil {
		tr.reasons, tr.at = map[string]string{}, map[string]time.Time{}
	}
	tr.reasons[string(m.Data)] = reason
	tr.at[string(m.Data)] = time.Now()
}

// await waits for data's verdict and checks it is reason; it returns when
// the verdict was reached.
func (tr *verdictTracer) await(t *testing.T, data []byte, reason string) time.Time {
	t.Helper()
	var got string
	var at time.Time
	eventually(t, 10*time.Second, "the node's verdict on a spec peer message", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		got, at = tr.reasons[string(data)], tr.at[string(data)]
		return got != ""
	})
	if got != reason {
		t.Fatalf("the node's verdict: %q, want %q", got, reason)
	}
	return at
}

// timedScores keeps the latest peer scores and when they came.
type timedScores struct {
	mu     sync.Mutex
	scores map[peer.ID]float64
	when   time.Time
}

func (s *timedScores) update(r PeerScores) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores, s.when = r.Scores, time.Now()
}

func (s *timedScores) get(p peer.ID) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.scores[p]
	return v, ok
}

// since reports whether the scores were updated after t.
func (s *timedScores) since(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.when.After(t)
}
