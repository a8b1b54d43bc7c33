package node

import (
	"context"

	"github.com/intentcast/intentcast/node/store"
)

// storeBehind queues b for the store and returns at once, for a change the
// node may report before it is durable (docs/ARCHITECTURE.md, "Durable
// before acknowledged": a received offer, a closure at a node with a
// stake, a vendor's deal). The store's reads see b from now on, and every
// later write lands after it. A goroutine of the node waits for the write
// and logs its failure; Close waits for it before it closes the store.
// what names the change in the log.
func (n *Node) storeBehind(ctx context.Context, what string, b store.Batch) {
	wait := n.store.Queue(ctx, b)
	n.wg.Go(func() {
		if err := wait(); err != nil {
			n.log.Error("store: write behind", "what", what, "err", err)
		}
	})
}
