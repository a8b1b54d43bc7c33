package node

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSyncServesWhileSlotsAreHeld: eight peers each keep eight streams open
// on /intentcast/sync/1 to a node (64 in all, reopened as soon as the node
// closes one) and send nothing on them. An honest requester must still be
// served within seconds. Before sessions were bounded per peer and idle
// ones gave their slot up, the eight peers held all eight slots for the
// 20 s frame timeout and took them again at once: every other requester was
// refused (issue 11, sync denial).
func TestSyncServesWhileSlotsAreHeld(t *testing.T) {
	const attackers, streamsEach = 8, 8
	n := startNode(t, syncTestConfig(t, false))
	in, _ := mintIntent(t, "electronics", 0, time.Now())
	ingest(t, n, "electronics", in.Raw)

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	var opened, held atomic.Int64
	for range attackers {
		h := rawPeer(t, n)
		for range streamsEach {
			wg.Go(func() {
				for ctx.Err() == nil {
					st, err := h.NewStream(ctx, n.ID(), syncProtocol)
					if err != nil {
						continue
					}
					opened.Add(1)
					held.Add(1)
					stop := context.AfterFunc(ctx, func() { st.Reset() })
					st.Read(make([]byte, 1)) // until the node closes it
					held.Add(-1)
					stop()
					st.Reset()
					select { // an attacker's pace: 20 reopens a second per stream
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
				}
			})
		}
	}
	// Every attacker holds a session and has had its other streams refused.
	eventually(t, 20*time.Second, "the attackers hold their streams", func() bool {
		return opened.Load() >= attackers*streamsEach && n.SyncStats().Refused >= attackers*(streamsEach-1)
	})
	t.Logf("%d streams held open by %d peers, %d refused so far", held.Load(), attackers, n.SyncStats().Refused)

	b := startNode(t, syncTestConfig(t, false))
	connectNodes(t, b, n)
	start, tries := time.Now(), 0
	var last error
	eventually(t, 15*time.Second, "the honest requester is served", func() bool {
		tries++
		last = b.sync.syncPeer(t.Context(), n.ID())
		if last != nil && !errors.Is(last, errSyncClosed) {
			t.Fatalf("sync: %v", last)
		}
		return last == nil
	})
	if !isLive(b, in.ID) {
		t.Fatal("served, but the intent did not arrive")
	}
	st := n.SyncStats()
	t.Logf("the honest requester was served after %v (%d tries); the node preempted %d idle sessions, refused %d",
		time.Since(start).Round(time.Millisecond), tries, st.Preempted, st.Refused)
	if st.Preempted == 0 {
		t.Error("the requester was served without taking an idle session's slot: the attack did not hold them")
	}
}
