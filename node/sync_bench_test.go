package node

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSyncLists is what one sync session costs each side before a
// byte is sent, for a node holding `live` intents of the category: the
// responder's served set (servedSet) and the requester's have list
// (haveList). Both walk the whole live set, so with intents living hours
// they grow with the traffic of those hours, once per session: a node
// asks each peer that connects, once more about SyncPeerInterval later,
// and one random peer every SyncInterval, and answers as often.
func BenchmarkSyncLists(b *testing.B) {
	for _, live := range []int{1000, 10000} {
		n := benchNode(b)
		pool := &intentPool{b: b}
		now := time.Now()
		for range live {
			n.live.add(pool.get(), now)
		}
		b.Run(fmt.Sprintf("served/live=%d", live), func(b *testing.B) {
			for b.Loop() {
				set, err := n.sync.servedSet(b.Context(), "electronics", 3)
				if err != nil || len(set) != live {
					b.Fatalf("served %d of %d: %v", len(set), live, err)
				}
			}
		})
		b.Run(fmt.Sprintf("have/live=%d", live), func(b *testing.B) {
			for b.Loop() {
				have, err := n.sync.haveList(b.Context(), "electronics", syncSetIntents)
				if err != nil || len(have) != live {
					b.Fatalf("have %d of %d: %v", len(have), live, err)
				}
			}
		})
	}
}
