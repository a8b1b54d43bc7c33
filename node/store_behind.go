package node

import (
	"context"

	"github.com/intentcast/intentcast/node/store"
)

// storeBehind queues b for the store and returns at once, for a change the
// node may report before it is durable and a crash may lose, because its
// peers give it back (docs/ARCHITECTURE.md, "Durable before acknowledged":
// a received offer, a closure at a node with a stake, a vendor's deal).
// The store's reads see b from now on, and every later write lands after
// it; the next transaction writes it (store.Behind: no journal record and
// no disk sync of its own). A goroutine of the node waits for the write
// and logs its failure; Close writes what is queued and waits for them
// before it closes the store. what names the change in the log.
func (n *Node) storeBehind(ctx context.Context, what string, b store.Batch) {
	wait := n.store.Behind(ctx, b)
	n.behind.Go(func() {
		if err := wait(); err != nil {
			n.log.Error("store: write behind", "what", what, "err", err)
		}
	})
}

// storeFirst returns once b is durable, for a change the node must hold
// before it sends the message b records (an offer, an accept, a cancel: a
// peer acts on them as this node's commitments). Queued and waited for,
// not applied: the store's journal makes it durable with one append and
// sync, where a transaction of its own costs two syncs and waits behind
// the write-behind round in progress; reads see it at once. Only for
// changes whose records reads lay queued batches over (offers, deals,
// own intents; store.Bolt's queuedView).
func (n *Node) storeFirst(ctx context.Context, b store.Batch) error {
	return n.store.Queue(ctx, b)()
}
