package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// syncTestConfig is nodeConfig with quick publishing (nodes without mesh
// peers do not wait) and, unless auto is set, automatic sync pushed out of
// the test's time, so that the test runs every session itself.
func syncTestConfig(t *testing.T, auto bool) Config {
	cfg := nodeConfig(t)
	cfg.PublishWait = 50 * time.Millisecond
	cfg.SyncDelay = 100 * time.Millisecond
	if !auto {
		cfg.SyncDelay = time.Hour
		cfg.SyncInterval = time.Hour
	}
	return cfg
}

// mintIntent makes a valid intent of a category, as a customer's node would.
func mintIntent(t *testing.T, category string, i int, now time.Time) (*intent.SignedIntent, intent.Keys) {
	t.Helper()
	d := laptopDraft(now)
	d.Category = category
	d.Text = fmt.Sprintf("item %d", i)
	d.Work = testPolicy.MinWork
	in, keys, err := intent.NewIntent(t.Context(), d, nil)
	if err != nil {
		t.Fatalf("NewIntent: %v", err)
	}
	return in, keys
}

// ingest hands n a message the way its gossip validator and delivery loop
// would, without any network: the message exists at n and nowhere else.
func ingest(t *testing.T, n *Node, category string, raw []byte) {
	t.Helper()
	m, err := n.check(t.Context(), category, false, raw)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	n.deliver(t.Context(), m)
}

// awaitStored waits until n's store holds count live intents: delivery
// writes them behind, in batches.
func awaitStored(t *testing.T, n *Node, count int) {
	t.Helper()
	eventually(t, 5*time.Second, fmt.Sprintf("%d live intents stored", count), func() bool {
		live, err := n.store.LiveIntents(t.Context(), n.now())
		return err == nil && len(live) == count
	})
}

// isStoredLive reports whether n's store lists id among its live intents,
// expired or not.
func isStoredLive(t *testing.T, n *Node, id intent.ID) bool {
	t.Helper()
	live, err := n.store.LiveIntents(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(live, func(l store.LiveIntent) bool { return l.ID == id })
}

func connectNodes(t *testing.T, a, b *Node) {
	t.Helper()
	if err := a.Connect(t.Context(), peer.AddrInfo{ID: b.ID(), Addrs: b.net.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func hasTombstone(n *Node, id intent.ID) bool {
	_, err := n.tombstone(context.Background(), id)
	return err == nil
}

// TestSyncLateJoiner: a customer publishes ten intents and cancels one; a
// relay hears them by gossip. A vendor that joins a minute later (its clock
// runs 60 s ahead) through the relay, and another through the customer,
// have the nine live intents and the tombstone within seconds, and never
// the cancelled intent: sync brought what gossip had long forgotten, with
// the relay serving what it relayed and the customer its own intents.
func TestSyncLateJoiner(t *testing.T) {
	ccfg := syncTestConfig(t, true)
	ccfg.SyncServeInterval = time.Millisecond
	customer := startNode(t, ccfg)
	// The relay also syncs periodically: gossip validates messages in
	// parallel, so a cancel can overtake its intent and be ignored (a
	// cancel of an unknown intent cannot be checked); the next sync heals
	// that, as it would in the field.
	rcfg := syncTestConfig(t, true)
	rcfg.SyncInterval = 300 * time.Millisecond
	rcfg.SyncPeerInterval = 200 * time.Millisecond
	rcfg.Bootstrap = addrsOf(customer)
	relay := startNode(t, rcfg)
	awaitNodeMeshes(t, []*Node{customer, relay})

	var ids []intent.ID
	for i := range 10 {
		d := laptopDraft(time.Now())
		d.Text = fmt.Sprintf("intent %d", i)
		in, err := customer.Publish(t.Context(), d, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	cancelled := ids[4]
	if err := customer.Cancel(t.Context(), cancelled); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the relay holds nine live intents and the tombstone", func() bool {
		for _, id := range ids {
			if isLive(relay, id) == (id == cancelled) {
				return false
			}
		}
		return hasTombstone(relay, cancelled)
	})

	late := func(boot *Node) *Node {
		cfg := syncTestConfig(t, true)
		cfg.Now = func() time.Time { return time.Now().Add(time.Minute) }
		cfg.Bootstrap = addrsOf(boot)
		return startNode(t, cfg)
	}
	viaRelay, viaCustomer := late(relay), late(customer)
	start := time.Now()
	for name, v := range map[string]*Node{"via relay": viaRelay, "via customer": viaCustomer} {
		eventually(t, 10*time.Second, name+": nine live intents and the tombstone", func() bool {
			for _, id := range ids {
				if isLive(v, id) == (id == cancelled) {
					return false
				}
			}
			return hasTombstone(v, cancelled)
		})
		eventually(t, 5*time.Second, name+": the feed lists the nine", func() bool {
			feed, err := v.Feed(t.Context())
			return err == nil && len(feed) == 9
		})
		eventually(t, 5*time.Second, name+": the session ends", func() bool { return v.SyncStats().Sessions > 0 })
		s := v.SyncStats()
		if s.Rejected != 0 {
			t.Errorf("%s: sync stats %+v", name, s)
		}
		t.Logf("%s: %d intents and %d tombstones came by sync, %d bytes", name, s.Intents, s.Tombstones, s.BytesReceived)
		if isStoredLive(t, v, cancelled) {
			t.Errorf("%s: the cancelled intent is stored live", name)
		}
	}
	t.Logf("late joiners complete %v after starting", time.Since(start).Round(time.Millisecond))
}

// TestSyncTransfersOnlyWhatIsMissing: a first sync moves the whole set; once
// both hold most of it, a second moves only the missing messages, and the
// request costs 8 bytes per ID held.
func TestSyncTransfersOnlyWhatIsMissing(t *testing.T) {
	const total, extra = 300, 5
	acfg := syncTestConfig(t, false)
	acfg.SyncServeInterval = time.Millisecond
	a := startNode(t, acfg)
	b := startNode(t, syncTestConfig(t, false))
	now := time.Now()
	rawBytes := 0
	keys := map[intent.ID]intent.Keys{}
	var ins []*intent.SignedIntent
	for i := range total {
		cat := testCategories[i%2]
		in, k := mintIntent(t, cat, i, now)
		ingest(t, a, cat, in.Raw)
		rawBytes += len(in.Raw)
		keys[in.ID] = k
		ins = append(ins, in)
	}
	connectNodes(t, b, a)

	if err := b.sync.syncPeer(t.Context(), a.ID()); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	full := b.SyncStats()
	if full.Intents != total || full.Rejected != 0 {
		t.Fatalf("first sync: %+v, want %d intents", full, total)
	}
	for _, in := range ins {
		if !isLive(b, in.ID) {
			t.Fatalf("intent %s missing after the first sync", in.ID.Short())
		}
	}
	// Framing costs a few bytes per message over the raw messages.
	if over := full.BytesReceived - rawBytes; over < 0 || over > 10*total+64 {
		t.Errorf("first sync received %d bytes for %d bytes of intents", full.BytesReceived, rawBytes)
	}

	// A gets five new intents and a cancel that B has not seen.
	missing := 0
	for i := range extra {
		in, _ := mintIntent(t, "home", total+i, now)
		ingest(t, a, "home", in.Raw)
		missing += len(in.Raw)
	}
	victim := ins[7]
	c, err := intent.NewCancel(victim, keys[victim.ID], now)
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, a, victim.Body.Category, c.Raw)
	missing += len(c.Raw)

	if err := b.sync.syncPeer(t.Context(), a.ID()); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	s := b.SyncStats()
	got := SyncStats{
		Intents: s.Intents - full.Intents, Tombstones: s.Tombstones - full.Tombstones,
		BytesReceived: s.BytesReceived - full.BytesReceived, BytesSent: s.BytesSent - full.BytesSent,
	}
	if got.Intents != extra || got.Tombstones != 1 || s.Ignored != 0 || s.Rejected != 0 {
		t.Fatalf("second sync: %d intents, %d tombstones (stats %+v), want %d and 1", got.Intents, got.Tombstones, s, extra)
	}
	if isLive(b, victim.ID) || !hasTombstone(b, victim.ID) {
		t.Fatal("the cancel did not reach B")
	}
	// The responses carry the missing messages and little else; the
	// requests carry the 8-byte prefixes of what B holds.
	if over := got.BytesReceived - missing; over < 0 || over > 10*(extra+1)+32 {
		t.Errorf("second sync received %d bytes for %d bytes of missing messages", got.BytesReceived, missing)
	}
	// held IDs, the framing, and one empty request per category for
	// each of the ratings sets.
	if held := 8 * total; got.BytesSent < held || got.BytesSent > held+64+2*len(testCategories)*20 {
		t.Errorf("second sync sent %d bytes of requests for %d held IDs", got.BytesSent, total)
	}
	t.Logf("full sync of %d intents (%d bytes raw): received %d bytes, sent %d; incremental sync of %d intents + 1 cancel (%d bytes raw): received %d bytes, sent %d",
		total, rawBytes, full.BytesReceived, full.BytesSent, extra, missing, got.BytesReceived, got.BytesSent)
}

// TestSyncRangesAndContinuations lowers the bounds so that the requester
// must split what it holds into ranges and the responder must cut its
// responses short: the result is the same set.
func TestSyncRangesAndContinuations(t *testing.T) {
	a := startNode(t, syncTestConfig(t, false))
	b := startNode(t, syncTestConfig(t, false))
	a.sync.setLimits(syncLimits{maxIDs: 4, maxItems: 3, maxResponse: syncMaxResponse, maxRounds: syncMaxRounds, maxSession: syncMaxSession})
	b.sync.setLimits(syncLimits{maxIDs: 4, maxItems: 3, maxResponse: syncMaxResponse, maxRounds: syncMaxRounds, maxSession: syncMaxSession})
	now := time.Now()
	var ins []*intent.SignedIntent
	for i := range 30 {
		in, _ := mintIntent(t, "electronics", i, now)
		ingest(t, a, "electronics", in.Raw)
		if i%3 == 0 {
			ingest(t, b, "electronics", in.Raw)
		}
		ins = append(ins, in)
	}
	connectNodes(t, b, a)
	if err := b.sync.syncPeer(t.Context(), a.ID()); err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		if !isLive(b, in.ID) {
			t.Fatalf("intent %s missing", in.ID.Short())
		}
	}
	s := b.SyncStats()
	if s.Intents != 20 || s.Rejected != 0 || s.Requests < 8 {
		t.Fatalf("stats %+v: want 20 intents over several requests", s)
	}
	t.Logf("%d requests for 20 intents with 4 IDs per request and 3 messages per response", s.Requests)
}

// TestSyncAfterReconnectAndPeriodically: what a peer got while the link
// was down arrives when the link comes back (no sooner than
// SyncPeerInterval after the last sync), and what gossip never carried
// arrives by the periodic sync.
func TestSyncAfterReconnectAndPeriodically(t *testing.T) {
	pair := func(interval time.Duration) (*Node, *Node) {
		cfg := func() Config {
			c := syncTestConfig(t, true)
			c.SyncPeerInterval = 200 * time.Millisecond
			c.SyncServeInterval = time.Millisecond
			c.SyncInterval = interval
			return c
		}
		a, b := startNode(t, cfg()), startNode(t, cfg())
		connectNodes(t, b, a)
		eventually(t, 5*time.Second, "a first sync", func() bool { return b.SyncStats().Sessions > 0 })
		return a, b
	}
	t.Run("reconnect", func(t *testing.T) {
		a, b := pair(time.Hour)
		if err := b.net.host.Network().ClosePeer(a.ID()); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "disconnected", func() bool { return len(b.Peers()) == 0 })
		in, _ := mintIntent(t, "home", 1, time.Now())
		ingest(t, a, "home", in.Raw) // a has it; gossip never carries it
		connectNodes(t, b, a)
		eventually(t, 5*time.Second, "b gets the intent after reconnecting", func() bool { return isLive(b, in.ID) })
	})
	t.Run("follow-up", func(t *testing.T) {
		// What a gets just after b's first sync (published while the
		// meshes form) comes with b's follow-up, SyncPeerInterval later,
		// with no reconnect and no periodic sync.
		cfg := func() Config {
			c := syncTestConfig(t, true)
			c.SyncPeerInterval = 3 * time.Second
			c.SyncServeInterval = time.Millisecond
			c.SyncInterval = time.Hour
			return c
		}
		a, b := startNode(t, cfg()), startNode(t, cfg())
		connectNodes(t, b, a)
		eventually(t, 5*time.Second, "a first sync", func() bool { return b.SyncStats().Sessions > 0 })
		in, _ := mintIntent(t, "home", 3, time.Now())
		ingest(t, a, "home", in.Raw)
		if s := b.SyncStats().Sessions; s != 1 {
			t.Fatalf("%d sessions before the intent was there; want 1 (the follow-up comes 3 s after the first)", s)
		}
		eventually(t, 10*time.Second, "b gets the intent by its follow-up sync", func() bool { return isLive(b, in.ID) })
		// A session counts when it ends, which on a busy machine can be
		// well after the intent it brought went live.
		eventually(t, 10*time.Second, "b's follow-up session ends", func() bool { return b.SyncStats().Sessions >= 2 })
		if s := b.SyncStats().Sessions; s != 2 {
			t.Errorf("%d sessions, want the first and one follow-up", s)
		}
	})
	t.Run("periodic", func(t *testing.T) {
		a, b := pair(300 * time.Millisecond)
		in, _ := mintIntent(t, "home", 2, time.Now())
		ingest(t, a, "home", in.Raw)
		eventually(t, 5*time.Second, "b gets the intent by periodic sync", func() bool { return isLive(b, in.ID) })
	})
}

// syncWithLiar has honest sync with evil and checks that the session
// failed as a protocol violation, and evil was dropped from sync, exactly
// when violation is set.
func syncWithLiar(t *testing.T, honest *Node, evil host.Host, violation bool) {
	t.Helper()
	if err := honest.Connect(t.Context(), peer.AddrInfo{ID: evil.ID(), Addrs: evil.Addrs()}); err != nil {
		t.Fatal(err)
	}
	err := honest.sync.syncPeer(t.Context(), evil.ID())
	if got := errors.Is(err, errSyncViolation); got != violation {
		t.Fatalf("syncPeer: %v; violation %v, want %v", err, got, violation)
	}
	if banned := honest.sync.streams.isBanned(evil.ID()); banned != violation {
		t.Fatalf("banned %v, want %v", banned, violation)
	}
}

// fakeSyncPeer is a bare libp2p host that answers /intentcast/sync/1 with
// whatever script returns for each request: the raw bytes it writes.
func fakeSyncPeer(t *testing.T, script func(req *parsedRequest) []byte) host.Host {
	t.Helper()
	return fakeSyncPeerOn(t, syncProtocol, script)
}

// fakeSyncPeerOn is fakeSyncPeer for a version of sync.
func fakeSyncPeerOn(t *testing.T, proto protocol.ID, script func(req *parsedRequest) []byte) host.Host {
	t.Helper()
	return rawSyncPeer(t, proto, func(st corenet.Stream, data []byte) []byte {
		req, err := parseRequest(data, syncVersion(st))
		if err != nil {
			return nil // the tests check what the honest side sent elsewhere
		}
		return script(req)
	})
}

// rawSyncPeer is a bare libp2p host that answers each request frame of a
// version of sync with what answer returns for it (nil: it ends the
// stream).
func rawSyncPeer(t *testing.T, proto protocol.ID, answer func(st corenet.Stream, data []byte) []byte) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	h.SetStreamHandler(proto, func(st corenet.Stream) {
		defer st.Close()
		r := bufio.NewReader(st)
		for {
			data, _, err := readFrame(r, syncMaxRequestFrame)
			if err != nil {
				return
			}
			b := answer(st, data)
			if b == nil {
				return
			}
			if _, err := st.Write(b); err != nil {
				return
			}
		}
	})
	return h
}

func frameBytes(t *testing.T, fs ...syncFrame) []byte {
	t.Helper()
	var out []byte
	for _, f := range fs {
		var err error
		if out, err = appendFrame(out, f); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

var syncEnd = syncFrame{Kind: syncKindEnd}

// TestSyncMaliciousPeer runs sessions against peers that serve forged,
// garbled or misplaced data. Nothing invalid is stored, each such peer is
// dropped from sync, and the honest node goes on syncing with honest peers.
func TestSyncMaliciousPeer(t *testing.T) {
	honest := startNode(t, syncTestConfig(t, false))
	now := time.Now()
	known, knownKeys := mintIntent(t, "electronics", 0, now)
	ingest(t, honest, "electronics", known.Raw)
	other, otherKeys := mintIntent(t, "electronics", 1, now)
	home, _ := mintIntent(t, "home", 2, now)
	unknown, unknownKeys := mintIntent(t, "electronics", 3, now)
	cancelUnknown, _ := intent.NewCancel(unknown, unknownKeys, now)
	cancelOther, _ := intent.NewCancel(other, otherKeys, now)
	// A cancel of the known intent signed with another intent's key.
	forgedCancel, err := intent.NewCancel(known, otherKeys, now)
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(other.Raw)
	forged[len(forged)-1] ^= 1 // breaks the signature
	_ = knownKeys

	electronicsOnly := func(fs ...syncFrame) func(*parsedRequest) []byte {
		return func(req *parsedRequest) []byte {
			if req.Category != "electronics" {
				return frameBytes(t, syncEnd)
			}
			return frameBytes(t, append(fs, syncEnd)...)
		}
	}
	// Two intents in descending order: the first is valid and delivered,
	// the second breaks the order.
	o1, _ := mintIntent(t, "electronics", 4, now)
	o2, _ := mintIntent(t, "electronics", 5, now)
	ordered := []*intent.SignedIntent{o1, o2}
	if prefixOf(o1.ID) < prefixOf(o2.ID) {
		ordered[0], ordered[1] = o2, o1
	}
	tests := []struct {
		name      string
		script    func(*parsedRequest) []byte
		violation bool
		check     func(t *testing.T)
	}{
		{"forged intent", electronicsOnly(syncFrame{Kind: syncKindIntent, Msg: forged}), true, func(t *testing.T) {
			if isLive(honest, other.ID) {
				t.Error("forged intent is live")
			}
		}},
		{"garbage frame", func(*parsedRequest) []byte {
			return append(binary.AppendUvarint(nil, 9), "not cbor!"...)
		}, true, nil},
		{"garbage message", electronicsOnly(syncFrame{Kind: syncKindIntent, Msg: []byte("definitely not an intent")}), true, nil},
		{"intent of another category", electronicsOnly(syncFrame{Kind: syncKindIntent, Msg: home.Raw}), true, func(t *testing.T) {
			if isLive(honest, home.ID) {
				t.Error("intent from the wrong category is live")
			}
		}},
		{"forged cancel of a known intent", electronicsOnly(syncFrame{Kind: syncKindTombstone, Msg: forgedCancel.Raw}), true, func(t *testing.T) {
			if !isLive(honest, known.ID) || hasTombstone(honest, known.ID) {
				t.Error("a forged cancel removed the intent")
			}
		}},
		{"cancel in the intent slot", electronicsOnly(syncFrame{Kind: syncKindIntent, Msg: cancelOther.Raw}), true, nil},
		{"messages out of order", electronicsOnly(
			syncFrame{Kind: syncKindIntent, Msg: ordered[0].Raw}, syncFrame{Kind: syncKindIntent, Msg: ordered[1].Raw}), true, nil},
		{"frame over the bound", func(*parsedRequest) []byte {
			return binary.AppendUvarint(nil, syncMaxItemFrame+1) // and nothing after: refused before reading
		}, true, nil},
		{"End without progress", electronicsOnly(syncFrame{Kind: syncKindEnd, More: true, Next: 1}), true, nil},
		// A cancel of an intent the node never saw cannot be checked: it is
		// ignored, without blame, and not stored.
		{"cancel of an unknown intent", electronicsOnly(syncFrame{Kind: syncKindTombstone, Msg: cancelUnknown.Raw}), false, func(t *testing.T) {
			if hasTombstone(honest, unknown.ID) {
				t.Error("an unverifiable cancel became a tombstone")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syncWithLiar(t, honest, fakeSyncPeer(t, tt.script), tt.violation)
			if tt.check != nil {
				tt.check(t)
			}
		})
	}
	// Only the intent it was given and the valid one delivered before the
	// order broke; no tombstone.
	eventually(t, 5*time.Second, "the store holds the two valid intents", func() bool {
		live, err := honest.store.LiveIntents(t.Context(), time.Now())
		return err == nil && len(live) == 2
	})
	live, _ := honest.store.LiveIntents(t.Context(), time.Now())
	for _, l := range live {
		if l.ID != known.ID && l.ID != ordered[0].ID {
			t.Fatalf("honest node stores intent %x", l.ID[:6])
		}
	}
	if tombs, _ := honest.store.Tombstones(t.Context(), "", time.Now()); len(tombs)+len(honest.replay.pendingTombstones("")) != 0 {
		t.Fatalf("honest node stores %d tombstones (and %d queued)", len(tombs), len(honest.replay.pendingTombstones("")))
	}

	// A peer that serves a tombstone with its intent, as the protocol
	// says: the cancel is checked against the intent and only the
	// tombstone is kept.
	fair := fakeSyncPeer(t, electronicsOnly(syncFrame{Kind: syncKindTombstone, Msg: cancelUnknown.Raw, Intent: unknown.Raw}))
	if err := honest.Connect(t.Context(), peer.AddrInfo{ID: fair.ID(), Addrs: fair.Addrs()}); err != nil {
		t.Fatal(err)
	}
	if err := honest.sync.syncPeer(t.Context(), fair.ID()); err != nil {
		t.Fatalf("sync with a fair peer: %v", err)
	}
	if isLive(honest, unknown.ID) || !hasTombstone(honest, unknown.ID) {
		t.Fatal("tombstone with its intent: want a tombstone and no live intent")
	}
	if isStoredLive(t, honest, unknown.ID) {
		t.Fatal("the cancelled intent was stored live")
	}

	// The honest node still syncs with an honest node.
	pcfg := syncTestConfig(t, false)
	pcfg.SyncServeInterval = time.Millisecond
	good := startNode(t, pcfg)
	fresh, _ := mintIntent(t, "home", 9, now)
	ingest(t, good, "home", fresh.Raw)
	connectNodes(t, honest, good)
	if err := honest.sync.syncPeer(t.Context(), good.ID()); err != nil {
		t.Fatalf("sync with an honest node: %v", err)
	}
	if !isLive(honest, fresh.ID) {
		t.Fatal("honest node did not get the honest peer's intent")
	}

	// Connecting is enough: a node with automatic sync drops a forger on
	// its own.
	auto := startNode(t, syncTestConfig(t, true))
	evil := fakeSyncPeer(t, electronicsOnly(syncFrame{Kind: syncKindIntent, Msg: forged}))
	if err := auto.Connect(t.Context(), peer.AddrInfo{ID: evil.ID(), Addrs: evil.Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the forger is dropped from sync", func() bool { return auto.sync.streams.isBanned(evil.ID()) })
	if isLive(auto, other.ID) {
		t.Fatal("forged intent is live")
	}
}

// TestSyncRefusesBadRequests: the answering side drops requests over the
// frame bound (before reading them), with too many IDs, or garbled, and
// the peers that sent them; it rate-limits honest repeats.
func TestSyncRefusesBadRequests(t *testing.T) {
	cfg := syncTestConfig(t, false)
	cfg.SyncServeInterval = time.Hour
	n := startNode(t, cfg)
	in, _ := mintIntent(t, "electronics", 0, time.Now())
	ingest(t, n, "electronics", in.Raw)

	tooMany := make([]uint64, syncMaxIDs+1)
	for i := range tooMany {
		tooMany[i] = uint64(i)
	}
	tests := []struct {
		name string
		req  []byte
	}{
		{"over the frame bound", binary.AppendUvarint(nil, syncMaxRequestFrame+1)},
		{"too many IDs", nil}, // filled in below
		{"garbled", append(binary.AppendUvarint(nil, 5), "hello"...)},
		{"unknown category", nil},
		{"zero-length frame", []byte{0}},
	}
	tests[1].req, _ = appendFrame(nil, syncRequest{Category: "electronics", Live: packPrefixes(tooMany)})
	tests[3].req, _ = appendFrame(nil, syncRequest{Category: "weapons"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if err := h.Connect(t.Context(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.host.Addrs()}); err != nil {
				t.Fatal(err)
			}
			st, err := h.NewStream(t.Context(), n.ID(), syncProtocol)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Reset()
			st.Write(tt.req)
			st.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := st.Read(make([]byte, 1)); err == nil {
				t.Fatal("the node answered")
			}
			eventually(t, 5*time.Second, "the peer is dropped from sync", func() bool { return n.sync.streams.isBanned(h.ID()) })
		})
	}

	// An honest requester gets one session per SyncServeInterval.
	b := startNode(t, syncTestConfig(t, false))
	connectNodes(t, b, n)
	if err := b.sync.syncPeer(t.Context(), n.ID()); err != nil || !isLive(b, in.ID) {
		t.Fatalf("first sync: %v", err)
	}
	before := n.SyncStats().Refused
	if err := b.sync.syncPeer(t.Context(), n.ID()); !errors.Is(err, errSyncClosed) {
		t.Fatalf("second sync within SyncServeInterval: %v, want refused", err)
	}
	if n.SyncStats().Refused != before+1 || b.sync.streams.isBanned(n.ID()) {
		t.Fatal("a refusal must not count against either side")
	}
}

// TestSyncFrames pins the frame codec: canonical CBOR only, every bound.
func TestSyncFrames(t *testing.T) {
	req := syncRequest{Category: "home", From: 5, To: 900, Live: packPrefixes([]uint64{6, 7}), Tombs: packPrefixes([]uint64{8})}
	frame, err := appendFrame(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	data, size, err := readFrame(bufio.NewReader(bytes.NewReader(frame)), syncMaxRequestFrame)
	if err != nil || size != len(frame) {
		t.Fatalf("readFrame: %v (%d of %d bytes)", err, size, len(frame))
	}
	got, err := parseRequest(data, 2)
	if err != nil || got.Category != "home" || len(got.live) != 2 || len(got.tombs) != 1 {
		t.Fatalf("parseRequest: %+v, %v", got, err)
	}

	bad := map[string][]byte{
		// {0: "home", 1: 5} with 5 as a two-byte integer
		"non-canonical integer": {0xa2, 0x00, 0x64, 'h', 'o', 'm', 'e', 0x01, 0x18, 0x05},
		"unsorted keys":         {0xa2, 0x01, 0x05, 0x00, 0x64, 'h', 'o', 'm', 'e'},
		"unknown key":           {0xa2, 0x00, 0x64, 'h', 'o', 'm', 'e', 0x09, 0x01},
		"duplicate key":         {0xa2, 0x00, 0x64, 'h', 'o', 'm', 'e', 0x00, 0x64, 'h', 'o', 'm', 'e'},
		"indefinite map":        {0xbf, 0x00, 0x64, 'h', 'o', 'm', 'e', 0xff},
		"tag":                   {0xa1, 0x00, 0xc1, 0x64, 'h', 'o', 'm', 'e'},
		"trailing byte":         {0xa1, 0x00, 0x64, 'h', 'o', 'm', 'e', 0x00},
		"empty range":           mustMarshal(t, syncRequest{Category: "home", From: 9, To: 9}),
		"prefixes unsorted":     mustMarshal(t, syncRequest{Category: "home", Live: packPrefixes([]uint64{7, 6})}),
		"prefix out of range":   mustMarshal(t, syncRequest{Category: "home", From: 10, Live: packPrefixes([]uint64{9})}),
		"prefix list ragged":    mustMarshal(t, syncRequest{Category: "home", Live: []byte{1, 2, 3}}),
	}
	for name, b := range bad {
		if _, err := parseRequest(b, 2); !errors.Is(err, errSyncViolation) {
			t.Errorf("%s: parseRequest = %v, want a violation", name, err)
		}
	}
	badFrames := map[string]syncFrame{
		"unknown kind":             {Kind: 9},
		"intent without message":   {Kind: syncKindIntent},
		"intent with intent":       {Kind: syncKindIntent, Msg: []byte{1}, Intent: []byte{1}},
		"oversized intent":         {Kind: syncKindIntent, Msg: make([]byte, intent.MaxIntentSize+1)},
		"oversized cancel":         {Kind: syncKindTombstone, Msg: make([]byte, intent.MaxCancelSize+1)},
		"End with a message":       {Kind: syncKindEnd, Msg: []byte{1}},
		"End with Next, not More":  {Kind: syncKindEnd, Next: 3},
		"tombstone with More flag": {Kind: syncKindTombstone, Msg: []byte{1}, More: true},
	}
	for name, f := range badFrames {
		if _, err := parseFrame(mustMarshal(t, f), 1); !errors.Is(err, errSyncViolation) {
			t.Errorf("%s: parseFrame = %v, want a violation", name, err)
		}
	}
	// /2 frames: a closure up to an accept's size, offers, and their bounds.
	for name, tt := range map[string]struct {
		f       syncFrame
		version int
		ok      bool
	}{
		"accept-sized tombstone by /2": {syncFrame{Kind: syncKindTombstone, Msg: make([]byte, intent.MaxAcceptSize)}, 2, true},
		"oversized accept by /2":       {syncFrame{Kind: syncKindTombstone, Msg: make([]byte, intent.MaxAcceptSize+1)}, 2, false},
		"offer by /2":                  {syncFrame{Kind: syncKindOffer, Msg: make([]byte, intent.MaxOfferSize)}, 2, true},
		"oversized offer by /2":        {syncFrame{Kind: syncKindOffer, Msg: make([]byte, intent.MaxOfferSize+1)}, 2, false},
		"offer with intent by /2":      {syncFrame{Kind: syncKindOffer, Msg: []byte{1}, Intent: []byte{1}}, 2, false},
		"offer by /1":                  {syncFrame{Kind: syncKindOffer, Msg: []byte{1}}, 1, false},
		"offer by /3":                  {syncFrame{Kind: syncKindOffer, Msg: make([]byte, intent.MaxOfferSize)}, 3, true},
		"accept-sized tombstone by /3": {syncFrame{Kind: syncKindTombstone, Msg: make([]byte, intent.MaxAcceptSize)}, 3, true},
		"rating by /3":                 {syncFrame{Kind: syncKindRating, Msg: make([]byte, intent.MaxRatingSize)}, 3, true},
		"oversized rating by /3":       {syncFrame{Kind: syncKindRating, Msg: make([]byte, intent.MaxRatingSize+1)}, 3, false},
		"rating by /2":                 {syncFrame{Kind: syncKindRating, Msg: []byte{1}}, 2, false},
		"rating by /1":                 {syncFrame{Kind: syncKindRating, Msg: []byte{1}}, 1, false},
		"reply by /3":                  {syncFrame{Kind: syncKindReply, Msg: make([]byte, intent.MaxReplySize)}, 3, true},
		"oversized reply by /3":        {syncFrame{Kind: syncKindReply, Msg: make([]byte, intent.MaxReplySize+1)}, 3, false},
		"reply with intent by /3":      {syncFrame{Kind: syncKindReply, Msg: []byte{1}, Intent: []byte{1}}, 3, false},
		"profile by /3":                {syncFrame{Kind: syncKindProfile, Msg: make([]byte, intent.MaxProfileSize)}, 3, true},
		"profile by /2":                {syncFrame{Kind: syncKindProfile, Msg: []byte{1}}, 2, false},
	} {
		_, err := parseFrame(mustMarshal(t, tt.f), tt.version)
		if got := err == nil; got != tt.ok || (err != nil && !errors.Is(err, errSyncViolation)) {
			t.Errorf("%s: parseFrame = %v, want ok=%v", name, err, tt.ok)
		}
	}
	for name, tt := range map[string]struct {
		r       syncRequest
		version int
	}{
		"set by /1":                          {syncRequest{Category: "home", Set: 1}, 1},
		"profiles by /1":                     {syncRequest{Category: "home", Set: 4}, 1},
		"ratings with tombs":                 {syncRequest{Category: "home", Set: 2, Tombs: packPrefixes([]uint64{1})}, 3},
		"offers with tombs":                  {syncRequest{Category: "home", Set: 1, Tombs: packPrefixes([]uint64{1})}, 2},
		"unknown set, category off roster":   {syncRequest{Category: "nope", Set: 9}, 3},
		"unknown set, prefixes out of order": {syncRequest{Category: "home", Set: 9, Live: packPrefixes([]uint64{7, 6})}, 3},
	} {
		if _, err := parseRequest(mustMarshal(t, tt.r), tt.version); !errors.Is(err, errSyncViolation) {
			t.Errorf("%s: parseRequest = %v, want a violation", name, err)
		}
	}
	// A set the version does not carry is no violation (the responder
	// answers End alone: TestSyncUnknownSet); its tombs are only checked
	// for form.
	for name, tt := range map[string]struct {
		r       syncRequest
		version int
	}{
		"profiles by /2":        {syncRequest{Category: "home", Set: 4}, 2},
		"ratings by /2, tombs":  {syncRequest{Category: "home", Set: 2, Tombs: packPrefixes([]uint64{1})}, 2},
		"set 5 by /3":           {syncRequest{Category: "home", Set: 5, Live: packPrefixes([]uint64{6, 7})}, 3},
		"set 2^32 by /3, tombs": {syncRequest{Category: "home", Set: 1 << 32, Tombs: packPrefixes([]uint64{1})}, 3},
	} {
		if _, err := parseRequest(mustMarshal(t, tt.r), tt.version); err != nil {
			t.Errorf("%s: parseRequest = %v, want no violation", name, err)
		}
	}

	// Length prefixes: over the bound is refused before the body is read;
	// non-minimal and overlong varints are refused.
	for name, tt := range map[string]struct {
		in   []byte
		want error
	}{
		"over the bound": {binary.AppendUvarint(nil, 100), errSyncFrameTooLarge},
		"non-minimal":    {[]byte{0x85, 0x00, 1, 2, 3, 4, 5}, errSyncViolation},
		"overlong":       {bytes.Repeat([]byte{0xff}, 10), errSyncViolation},
		"empty":          {[]byte{0}, errSyncViolation},
	} {
		if _, _, err := readFrame(bufio.NewReader(bytes.NewReader(tt.in)), 99); !errors.Is(err, tt.want) {
			t.Errorf("%s: readFrame = %v, want %v", name, err, tt.want)
		}
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := intent.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzSyncFrames: the decoders never panic, and whatever they accept is
// canonical (re-encodes to the same bytes).
func FuzzSyncFrames(f *testing.F) {
	for _, v := range []any{
		syncRequest{Category: "home", From: 5, To: 900, Live: packPrefixes([]uint64{6, 7})},
		syncFrame{Kind: syncKindEnd, More: true, Next: 77},
		syncFrame{Kind: syncKindTombstone, Msg: []byte{1, 2}, Intent: []byte{3}},
	} {
		b, _ := intent.Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for version := 1; version <= 3; version++ {
			if r, err := parseRequest(data, version); err == nil {
				if again, _ := intent.Marshal(r.syncRequest); !bytes.Equal(again, data) {
					t.Fatalf("/%d accepted a non-canonical request %x", version, data)
				}
			}
			if fr, err := parseFrame(data, version); err == nil {
				if again, _ := intent.Marshal(fr); !bytes.Equal(again, data) {
					t.Fatalf("/%d accepted a non-canonical frame %x", version, data)
				}
			}
		}
		readFrame(bufio.NewReader(bytes.NewReader(data)), 64)
	})
}

// TestNewFailureCleansUp: a node that fails to start (here: its store is
// locked by a running node) returns the error and leaves nothing running;
// New's cleanup used to call Close on the nil it was about to return.
func TestNewFailureCleansUp(t *testing.T) {
	cfg := syncTestConfig(t, false)
	startNode(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	if _, err := New(ctx, cfg); err == nil {
		t.Fatal("New on a locked data dir succeeded")
	}
}
