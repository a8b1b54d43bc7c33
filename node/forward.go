package node

import (
	"context"
	"sync"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// forwarder gossips on the intents and closures this node took by sync.
// Gossip carries a message on from each node that takes it, but a message
// that came by sync never went through this node's router: without this,
// the nodes behind it learn it only from their own periodic sync (minutes)
// — after a healed partition, every node without a link across the cut.
// Forwarded, a message costs the network what its first publish did; the
// nodes that hold it drop it as a replay (Ignore, no penalty).
//
// The queue is the limit: a sync peer fills it by serving valid messages
// (work and a signature each) that this node lacked, at most forwardQueue
// waiting, sent one per forwardEvery; beyond that a forward is dropped
// (the message itself is taken; only its forward is lost, and the nodes
// behind sync as before). The pace keeps a heal's burst out of the
// routers' per-peer send queues (32 RPCs), where it would crowd out live
// traffic.
type forwarder struct {
	queue chan forwarded
	node  *Node

	mu      sync.Mutex
	passing map[intent.ID]bool // being published: the validator lets them by
}

// forwarded is one message waiting to be gossiped on.
type forwarded struct {
	id    intent.ID
	topic string
	raw   []byte
}

const (
	forwardQueue = 1024
	forwardEvery = 20 * time.Millisecond
)

func newForwarder(n *Node) *forwarder {
	return &forwarder{queue: make(chan forwarded, forwardQueue), node: n, passing: make(map[intent.ID]bool)}
}

// put queues a message sync brought for gossip on its topic, unless the
// queue is full.
func (f *forwarder) put(id intent.ID, topic string, raw []byte) {
	select {
	case f.queue <- forwarded{id, topic, raw}:
	default:
		f.node.sync.count(func(c *SyncStats) { c.ForwardDropped++ })
	}
}

// passes reports whether data is a message this node is forwarding, which
// its validator checked when sync brought it: the router's local check of
// the publish must let it by, not refuse it as a replay of itself.
func (f *forwarder) passes(data []byte) bool {
	id := intent.IDOf(data)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.passing[id]
}

// Serve publishes what is queued, one message per forwardEvery, until ctx
// ends; what is still queued then is dropped with the node.
func (f *forwarder) Serve(ctx context.Context) error {
	pace := time.NewTicker(forwardEvery)
	defer pace.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-f.queue:
			f.publish(ctx, m)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-pace.C:
		}
	}
}

func (f *forwarder) publish(ctx context.Context, m forwarded) {
	t, ok := f.node.topics[m.topic]
	if !ok || len(t.ListPeers()) == 0 {
		return
	}
	f.mu.Lock()
	f.passing[m.id] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.passing, m.id)
		f.mu.Unlock()
	}()
	if err := t.Publish(ctx, m.raw); err != nil {
		if ctx.Err() == nil {
			f.node.log.Debug("forward what sync brought", "topic", m.topic, "id", m.id.Short(), "err", err)
		}
		return
	}
	f.node.sync.count(func(c *SyncStats) { c.Forwarded++ })
}

// forward queues a message sync took for gossip on (forwarder): an intent
// or a closure, unless of an own intent (those go out by the outbox,
// through the stem: gossiped from here they would show their origin).
func (n *Node) forward(category string, offers bool, m any) {
	var id, intentID intent.ID
	var raw []byte
	switch m := m.(type) {
	case *intent.SignedIntent:
		id, intentID, raw = m.ID, m.ID, m.Raw
	case *intent.SignedCancel:
		id, intentID, raw = m.ID, m.IntentID, m.Raw
	case *intent.SignedAccept:
		id, intentID, raw = m.ID, m.IntentID, m.Raw
	default:
		return
	}
	if n.isOwn(intentID) {
		return
	}
	topic := intent.IntentTopic(category)
	if offers {
		topic = intent.OfferTopic(category)
	}
	n.forwarder.put(id, topic, raw)
}
