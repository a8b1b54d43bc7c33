package node

import (
	"crypto/sha256"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// The outbox learns from the router's trace when an own message leaves
// and when the network shows it has it. These run on the router's event
// loop, so they never block: they change memory (hashing a message only
// if it has the fingerprint of an own message not yet seen), report and
// queue a status change (outbox.update), and a graft kicks the outbox loop.

// SendRPCCompleted: the router wrote an RPC to peer p's stream; own
// messages in it were handed to p. (Not SendRPC: that is only the
// router's queue for p, which a slow peer may never drain.)
func (o *outbox) SendRPCCompleted(rpc *pubsub.RPC, p peer.ID, _ time.Duration) {
	for _, m := range rpc.GetPublish() {
		if id, ok := o.candidate(m.GetData()); ok {
			o.handed(id, p)
		}
	}
}

// RecvRPC: a peer sent an RPC. A copy of an own message in it, or an
// IHAVE naming one, shows that the network has it.
func (o *outbox) RecvRPC(rpc *pubsub.RPC) {
	for _, m := range rpc.GetPublish() {
		if id, ok := o.candidate(m.GetData()); ok {
			o.seenBy(id)
		}
	}
	for _, ih := range rpc.GetControl().GetIhave() {
		for _, mid := range ih.GetMessageIDs() {
			if len(mid) == len(intent.ID{}) {
				o.seenBy(intent.ID([]byte(mid)))
			}
		}
	}
}

// Graft: p joined this node's mesh for a topic: queued messages may go.
func (o *outbox) Graft(p peer.ID, topic string) {
	o.mu.Lock()
	if o.mesh[topic] == nil {
		o.mesh[topic] = make(map[peer.ID]bool)
	}
	o.mesh[topic][p] = true
	o.mu.Unlock()
	o.wake()
}

// Prune: p left this node's mesh for a topic.
func (o *outbox) Prune(p peer.ID, topic string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.mesh[topic], p)
}

// OnClosedOutboundStream: the router lost p, and with it every mesh
// link to p. Without this a peer gone would still count as meshed, and a
// queued message would be published into an empty mesh.
func (o *outbox) OnClosedOutboundStream(p peer.ID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, m := range o.mesh {
		delete(m, p)
	}
}

// candidate returns the ID of data if an own message not yet seen has its
// fingerprint (the ID is then looked up by handed and seenBy).
func (o *outbox) candidate(data []byte) (intent.ID, bool) {
	o.mu.Lock()
	n := o.prints[fingerprintOf(data)]
	o.mu.Unlock()
	if n == 0 {
		return intent.ID{}, false
	}
	return intent.ID(sha256.Sum256(data)), true
}

// fingerprint is what the trace compares before it hashes a message: its
// length and last bytes. Those are a signature's in every signed message,
// so a relay hashes the copies of its own messages, not every message it
// sends or receives that has an own message's length (in a swarm of
// messages of one kind, most of them: BENCHMARKS.md, 2026-12-04). It
// only filters: the hash decides.
type fingerprint struct {
	n    int
	tail [8]byte
}

func fingerprintOf(data []byte) fingerprint {
	f := fingerprint{n: len(data)}
	copy(f.tail[:], data[max(0, len(data)-len(f.tail)):])
	return f
}

var _ pubsub.RawTracer = (*outbox)(nil)
