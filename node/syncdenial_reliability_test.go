package node

import (
	"bufio"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
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
	n, in := syncServer(t)

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

	took, tries := honestSync(t, n, in.ID)
	st := n.SyncStats()
	t.Logf("the honest requester was served after %v (%d tries); the node preempted %d idle sessions, refused %d",
		took, tries, st.Preempted, st.Refused)
	if st.Preempted == 0 {
		t.Error("the requester was served without taking an idle session's slot: the attack did not hold them")
	}
}

// honestSync starts a requester, connects it to n and has it sync with n
// until n serves it (an honest requester that is refused asks again), and
// checks that intent id arrived. It returns how long that took, and the
// tries.
func honestSync(t *testing.T, n *Node, id intent.ID) (time.Duration, int) {
	t.Helper()
	b := startNode(t, syncTestConfig(t, false))
	connectNodes(t, b, n)
	start, tries := time.Now(), 0
	eventually(t, 15*time.Second, "the honest requester is served", func() bool {
		tries++
		err := b.sync.syncPeer(t.Context(), n.ID())
		if err != nil && !errors.Is(err, errSyncClosed) {
			t.Fatalf("sync: %v", err)
		}
		return err == nil
	})
	if !isLive(b, id) {
		t.Fatal("served, but the intent did not arrive")
	}
	return time.Since(start).Round(time.Millisecond), tries
}

// TestSyncServesWhileSessionsAreKeptBusy: as many peers as the node has
// serving slots each keep a sync session busy, never idle: a request every
// 500 ms, each answer read (a slow requester's pace; 64 rounds, 32 s a
// session), and a new session as soon as one ends. An honest requester
// must still be served. Before the session that has run longest gave its
// slot up too, not only one idle for a second, the peers held every slot
// for their whole sessions and took them again as they ended: every other
// requester was refused (issue 11, sync denial).
func TestSyncServesWhileSessionsAreKeptBusy(t *testing.T) {
	n, in := syncServer(t)
	_, rounds := busyPeers(t, n, syncMaxServing, true)
	eventually(t, 20*time.Second, "the attackers keep every slot busy", func() bool {
		return servingSessions(n, "") == syncMaxServing && rounds.Load() >= 2*syncMaxServing
	})

	took, tries := honestSync(t, n, in.ID)
	st := n.SyncStats()
	if st.Preempted == 0 {
		t.Error("the requester took no busy session's slot: it got in only as an attacker's session ended")
	}
	t.Logf("the honest requester was served after %v (%d tries) while %d peers kept their sessions busy (%d rounds); preempted %d, refused %d",
		took, tries, syncMaxServing, rounds.Load(), st.Preempted, st.Refused)
}

// TestSyncCutsIdleSessionsFirst: when every slot is taken, a newcomer gets
// the slot of a session that is idle, not that of an older one kept busy:
// a slow requester (a request every 500 ms) keeps its session while peers
// that only hold theirs lose them. Without the idle rule the session begun
// first would go, however busy.
func TestSyncCutsIdleSessionsFirst(t *testing.T) {
	n, in := syncServer(t)
	busy, rounds := busyPeers(t, n, 1, false)
	slow := busy[0]
	eventually(t, 10*time.Second, "the slow requester is answered", func() bool { return rounds.Load() > 0 })
	for range syncMaxServing - 1 {
		st, err := rawPeer(t, n).NewStream(t.Context(), n.ID(), syncProtocol)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Reset()
		if _, err := st.Write([]byte{0x80}); err != nil { // half a length prefix
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "every slot is taken, all but the slow one's idle", func() bool {
		return servingSessions(n, "") == syncMaxServing && idleSessions(n, syncPreemptIdle) == syncMaxServing-1
	})

	honestSync(t, n, in.ID)
	if servingSessions(n, slow) != 1 {
		t.Error("the slow requester's busy session lost its slot while idle ones held theirs")
	}
	if st := n.SyncStats(); st.Preempted != 1 {
		t.Errorf("the node preempted %d sessions, want 1", st.Preempted)
	}
}

// busyPeers starts k peers that each run slow sessions with n
// (busySession): one, or with again a new one whenever one ends, until the
// test ends. rounds counts the rounds n answered them.
func busyPeers(t *testing.T, n *Node, k int, again bool) ([]peer.ID, *atomic.Int64) {
	t.Helper()
	req, err := appendFrame(nil, syncRequest{Category: "electronics"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := make([]host.Host, k)
	ids := make([]peer.ID, k)
	for i := range hosts {
		hosts[i] = rawPeer(t, n)
		ids[i] = hosts[i].ID()
	}
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() }) // before the hosts close
	rounds := new(atomic.Int64)
	for _, h := range hosts {
		wg.Go(func() {
			for ctx.Err() == nil {
				if busySession(ctx, h, n.ID(), req, rounds) == 0 {
					select { // refused: an attacker's pace of retries
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
				}
				if !again {
					return
				}
			}
		})
	}
	return ids, rounds
}

// busySession runs one sync session with p at a slow requester's pace,
// until the node ends it or ctx ends, and returns the rounds answered.
func busySession(ctx context.Context, h host.Host, p peer.ID, req []byte, rounds *atomic.Int64) int {
	st, err := h.NewStream(ctx, p, syncProtocol)
	if err != nil {
		return 0
	}
	defer st.Reset()
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	r := bufio.NewReader(st)
	for k := 0; ; k++ {
		if _, err := st.Write(req); err != nil {
			return k
		}
		for end := false; !end; {
			data, _, err := readFrame(r, maxItemFrame(1))
			if err != nil {
				return k
			}
			f, err := parseFrame(data, 1)
			if err != nil {
				return k
			}
			end = f.Kind == syncKindEnd
		}
		rounds.Add(1)
		select {
		case <-ctx.Done():
			return k + 1
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// TestSyncServesARestartedRequester: a requester comes back (a restart, a
// new network) while the node it asks still holds its last session on a
// connection that went silent: the old incarnation, the same peer ID on a
// connection of its own, started a request and sent nothing more, as a
// connection whose end never reached the node looks. The requester's first
// sync on its new connection must be served, and the old session ended.
// Before a peer's newer session replaced its older one, the node refused
// the requester until the silent session's frame timeout (20 s), and the
// requester waited out the serving interval before it asked again.
func TestSyncServesARestartedRequester(t *testing.T) {
	n, in := syncServer(t)

	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Close() })
	if err := old.Connect(t.Context(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	st, err := old.NewStream(t.Context(), n.ID(), syncProtocol2, syncProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Reset()
	if _, err := st.Write([]byte{0x80}); err != nil { // half a length prefix
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the node holds the old session", func() bool { return servingSessions(n, old.ID()) == 1 })

	cfg := syncTestConfig(t, false)
	cfg.PrivKey = key
	b := startNode(t, cfg)
	connectNodes(t, b, n)
	if err := b.sync.syncPeer(t.Context(), n.ID()); err != nil {
		t.Fatalf("the restarted requester's first sync: %v (the node served %d sessions, refused %d)", err, n.SyncStats().Served, n.SyncStats().Refused)
	}
	if !isLive(b, in.ID) {
		t.Fatal("served, but the intent did not arrive")
	}
	st.SetReadDeadline(time.Now().Add(10 * time.Second))
	var timeout interface{ Timeout() bool }
	if _, err := st.Read(make([]byte, 1)); err == nil || (errors.As(err, &timeout) && timeout.Timeout()) {
		t.Errorf("the old session's stream: %v, want it reset by the node", err)
	}
	if k := servingSessions(n, b.ID()); k > 1 {
		t.Errorf("the node answers %d sessions of the peer, want 1 at most", k)
	}
}

// servingSessions is how many of p's sync sessions n is answering (of
// everyone's, for p "").
func servingSessions(n *Node, p peer.ID) int {
	n.sync.streams.mu.Lock()
	defer n.sync.streams.mu.Unlock()
	k := 0
	for sl := range n.sync.streams.slots {
		if p == "" || sl.peer == p {
			k++
		}
	}
	return k
}

// idleSessions is how many of the sync sessions n answers have been idle
// for d.
func idleSessions(n *Node, d time.Duration) int {
	n.sync.streams.mu.Lock()
	defer n.sync.streams.mu.Unlock()
	k, now := 0, time.Now()
	for sl := range n.sync.streams.slots {
		if sl.idle(now) >= d {
			k++
		}
	}
	return k
}

// syncServer starts a node that serves one live intent by sync.
func syncServer(t *testing.T) (*Node, *intent.SignedIntent) {
	t.Helper()
	n := startNode(t, syncTestConfig(t, false))
	in, _ := mintIntent(t, "electronics", 0, time.Now())
	ingest(t, n, "electronics", in.Raw)
	return n, in
}
