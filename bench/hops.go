package bench

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// HopLog splits the time a message takes from one peer to the next into
// where it is spent: at the sender, on the wire, in the receiver's router
// and its validation, and on the way out again. Given to RunLoad
// (Load.Hops), the swarm's tracers stamp every message event of the run on
// one clock, which only a swarm in this process shares (not ProcSwarm).
//
// Stamps are kept in memory for the whole run: one per message event, some
// ten per delivery, about 60 bytes each. Each takes a lock shared by the
// swarm, a cost both systems pay alike; the table's runs do not stamp.
type HopLog struct {
	mu     sync.Mutex
	stamps []hopStamp
}

// hopStamp is one router event for one message at one peer.
type hopStamp struct {
	at    int64
	self  peer.ID // the peer whose router saw the event
	other peer.ID // the peer an RPC went to (queued, written); "" otherwise
	event hopEvent
	msg   [8]byte // the message's last 8 bytes: unique among a run's messages
}

type hopEvent byte

const (
	hopQueued    hopEvent = iota // the router queued the message in an RPC for other (its loop)
	hopWritten                   // the RPC was written to other's stream (the peer's writer)
	hopTaken                     // the router's loop took an RPC holding it
	hopDelivered                 // validated, handed to the subscriptions, before forwarding
)

// ErrNoHops is returned by RunLoad for a swarm whose routers it cannot
// stamp on one clock.
var ErrNoHops = errors.New("per-hop stamps need every peer in this process")

// hopTracing is a swarm whose tracers can stamp for a HopLog.
type hopTracing interface {
	traceHops(l *HopLog)
}

// hopTap is what one peer's tracer stamps with.
type hopTap struct {
	log  *HopLog
	self peer.ID
}

func (t *hopTap) note(event hopEvent, data []byte, other peer.ID) {
	s := hopStamp{at: now(), self: t.self, other: other, event: event}
	copy(s.msg[:], data[max(0, len(data)-len(s.msg)):])
	t.log.mu.Lock()
	t.log.stamps = append(t.log.stamps, s)
	t.log.mu.Unlock()
}

func (t *hopTap) noteRPC(event hopEvent, rpc *pubsub.RPC, other peer.ID) {
	for _, m := range rpc.Publish {
		t.note(event, m.Data, other)
	}
}

// tapTracers points the tracer of each host at l (nil stops the
// stamping); tracers[i] is hosts[i]'s.
func tapTracers(tracers []*tracer, hosts []host.Host, l *HopLog) {
	for i, t := range tracers {
		if l == nil {
			t.hops.Store(nil)
			continue
		}
		t.hops.Store(&hopTap{log: l, self: hosts[i].ID()})
	}
}

// HopSegment is one part of a hop: its percentiles over every hop a
// message made to a peer that had not had it yet.
type HopSegment struct {
	Name          string
	Hops          int
	P50, P90, P99 time.Duration
}

func (s HopSegment) String() string {
	return fmt.Sprintf("%-44s %6d hops  p50 %8s  p90 %8s  p99 %8s", s.Name, s.Hops,
		s.P50.Round(time.Microsecond), s.P90.Round(time.Microsecond), s.P99.Round(time.Microsecond))
}

// Segments splits each first delivery of a message at peer B, which came
// from peer A, into four parts:
//
//   - at A, from its router queuing the RPC for B to the RPC written to
//     B's stream (A's writer goroutine for B);
//   - from that write to B's router taking the RPC: the stream, the
//     connection and the kernel, B's reader, and B's router loop;
//   - from there to B's router delivering it: the validation queue and
//     workers, with the signature check and any topic validator;
//   - from the delivery to B's router queuing it for its first peer.
//
// The publisher's own events, a stem's hops (not gossip) and hops whose
// events the run cut off are not counted. The write is stamped when the
// writer's call returns, so on a busy machine the receiver may take the
// RPC first: a few wire times can be below zero.
func (l *HopLog) Segments() []HopSegment {
	l.mu.Lock()
	stamps := slices.Clone(l.stamps)
	l.mu.Unlock()

	type at struct {
		peer peer.ID
		msg  [8]byte
	}
	type atEvent struct {
		at
		event hopEvent
	}
	type link struct {
		from, to peer.ID
		msg      [8]byte
		event    hopEvent
	}
	first := make(map[atEvent]int64) // each event's first time at a peer
	sent := make(map[link]int64)     // each queuing and write's first time, per peer sent to
	for _, s := range stamps {
		keepFirst(first, atEvent{at{s.self, s.msg}, s.event}, s.at)
		if s.event == hopQueued || s.event == hopWritten {
			keepFirst(sent, link{s.self, s.other, s.msg, s.event}, s.at)
		}
	}
	// Which peer sent B its first copy: taken to be the one whose write to
	// B came first (two writes close together may arrive in the other order).
	from := make(map[at]peer.ID)
	firstWrite := make(map[at]int64)
	for lk, w := range sent {
		if lk.event != hopWritten {
			continue
		}
		k := at{lk.to, lk.msg}
		if prev, seen := firstWrite[k]; !seen || w < prev {
			from[k], firstWrite[k] = lk.from, w
		}
	}
	var writer, wire, router, onward []time.Duration
	for k, delivered := range first {
		if k.event != hopDelivered {
			continue
		}
		a, ok := from[k.at]
		taken, tok := first[atEvent{k.at, hopTaken}]
		if !ok || !tok || taken > delivered {
			continue // not a gossiped first copy: a stem's hop, whose gossip came back later
		}
		written := firstWrite[k.at]
		if queued, ok := sent[link{a, k.peer, k.msg, hopQueued}]; ok {
			writer = append(writer, time.Duration(written-queued))
		}
		wire = append(wire, time.Duration(taken-written))
		router = append(router, time.Duration(delivered-taken))
		if next, ok := first[atEvent{k.at, hopQueued}]; ok {
			onward = append(onward, time.Duration(next-delivered))
		}
	}
	return []HopSegment{
		segment("sender: queued -> written to the stream", writer),
		segment("wire: written -> taken by the receiver's loop", wire),
		segment("receiver: taken -> validated and delivered", router),
		segment("receiver: delivered -> queued onward", onward),
	}
}

// keepFirst records at under k unless an earlier stamp did.
func keepFirst[K comparable](m map[K]int64, k K, at int64) {
	if _, ok := m[k]; !ok {
		m[k] = at
	}
}

func segment(name string, ds []time.Duration) HopSegment {
	slices.Sort(ds)
	return HopSegment{Name: name, Hops: len(ds),
		P50: percentile(ds, 50), P90: percentile(ds, 90), P99: percentile(ds, 99)}
}
