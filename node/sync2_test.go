package node

import (
	"bytes"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// TestSyncRequestHidesOwnIntents: two customers' nodes that saw the same
// traffic, each the author of one of the two intents (and the receiver of
// its offers), send byte-identical /intentcast/sync/3 requests: a
// responder cannot tell which intents a requester owns.
func TestSyncRequestHidesOwnIntents(t *testing.T) {
	relay := startNode(t, syncTestConfig(t, false))
	join := func() *Node {
		cfg := syncTestConfig(t, false)
		cfg.Bootstrap = addrsOf(relay)
		return startNode(t, cfg)
	}
	a, b, vendor := join(), join(), join()
	awaitNodeMeshes(t, []*Node{relay, a, b, vendor})
	x, err := a.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Node{a, b, vendor} {
		eventually(t, 15*time.Second, "every node knows both intents", func() bool { return isLive(n, x.ID) && isLive(n, y.ID) })
	}
	for _, id := range []intent.ID{x.ID, y.ID} {
		if _, err := vendor.SendOffer(t.Context(), id, intent.OfferDraft{Price: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*Node{a, b} {
		eventually(t, 15*time.Second, "both customers keep both offers", func() bool {
			kept, err := n.sync.haveOffers(t.Context(), "electronics")
			return err == nil && len(kept) == 2
		})
	}
	if o, err := a.Offers(t.Context(), x.ID); err != nil || len(o) != 1 {
		t.Fatalf("customer a opened %d offers (%v), want its one", len(o), err)
	}

	var mu sync.Mutex
	requests := map[peer.ID][][]byte{}
	rec := rawSyncPeer(t, syncProtocol3, func(st corenet.Stream, data []byte) []byte {
		mu.Lock()
		requests[st.Conn().RemotePeer()] = append(requests[st.Conn().RemotePeer()], data)
		mu.Unlock()
		return frameBytes(t, syncEnd)
	})
	for _, n := range []*Node{a, b} {
		if err := n.Connect(t.Context(), peer.AddrInfo{ID: rec.ID(), Addrs: rec.Addrs()}); err != nil {
			t.Fatal(err)
		}
		if err := n.sync.syncPeer(t.Context(), rec.ID()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	ra, rb := requests[a.ID()], requests[b.ID()]
	if len(ra) != 4*len(testCategories)+1 {
		t.Fatalf("a sent %d requests, want one per set (intents, offers, ratings, replies) and category, and one for the profiles", len(ra))
	}
	if !slices.EqualFunc(ra, rb, bytes.Equal) {
		t.Fatalf("the requests differ with the intents owned:\na: %x\nb: %x", ra, rb)
	}
	// And they list both intents and both offers: the whole live set.
	var offersReq *parsedRequest
	for _, data := range ra {
		r, err := parseRequest(data, 3)
		if err != nil {
			t.Fatal(err)
		}
		if r.Category == "electronics" && r.Set == syncSetOffers {
			offersReq = r
		}
		if r.Category == "electronics" && r.Set == syncSetIntents && (!r.hasLive(prefixOf(x.ID)) || !r.hasLive(prefixOf(y.ID))) {
			t.Error("the intents request does not list both live intents")
		}
	}
	if offersReq == nil || len(offersReq.live) != 2 {
		t.Fatalf("the offers request lists %v, want both offers", offersReq)
	}
}

// TestSync2LyingPeer: a /2 peer that serves forged, oversize, replayed or
// misplaced offers and accepts is refused and dropped from sync, and
// nothing it sent is kept.
func TestSync2LyingPeer(t *testing.T) {
	honest := startNode(t, syncTestConfig(t, false))
	now := time.Now()
	in, _ := mintIntent(t, "electronics", 0, now)
	ingest(t, honest, "electronics", in.Raw)
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	var goodSigned *intent.SignedOffer
	mint := func(price uint64, bits int) *intent.SealedOffer {
		s, signed, err := intent.NewOffer(in, vendor, intent.OfferDraft{Price: price, Vendor: intent.Vendor{Name: "v"}, Created: now, ValidUntil: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Mint(t.Context(), bits); err != nil {
			t.Fatal(err)
		}
		goodSigned = signed
		return s
	}
	work := honest.cfg.Policy.OfferWork()
	good := mint(100, work)
	signed := goodSigned
	var lazy *intent.SealedOffer // an offer without the network's work
	for lazy = mint(101, 0); lazy.Work() >= work; lazy = mint(101, 0) {
	}
	// good reached the honest node by gossip: a peer that serves it again
	// serves what the request listed.
	m, err := honest.check(t.Context(), "electronics", true, good.Raw)
	if err != nil {
		t.Fatal(err)
	}
	honest.deliver(t.Context(), m)
	_, otherKeys := mintIntent(t, "electronics", 1, now)
	forgedAccept, err := intent.NewAccept(in, otherKeys, good.ID, signed, nil, now)
	if err != nil {
		t.Fatal(err)
	}

	offersOnly := func(fs ...syncFrame) func(*parsedRequest) []byte {
		return func(req *parsedRequest) []byte {
			if req.Category != "electronics" || req.Set != syncSetOffers {
				return frameBytes(t, syncEnd)
			}
			return frameBytes(t, append(fs, syncEnd)...)
		}
	}
	intentsOnly := func(fs ...syncFrame) func(*parsedRequest) []byte {
		return func(req *parsedRequest) []byte {
			if req.Category != "electronics" || req.Set != syncSetIntents {
				return frameBytes(t, syncEnd)
			}
			return frameBytes(t, append(fs, syncEnd)...)
		}
	}
	tests := []struct {
		name      string
		script    func(*parsedRequest) []byte
		violation bool
	}{
		{"offer without work", offersOnly(syncFrame{Kind: syncKindOffer, Msg: lazy.Raw}), true},
		{"garbage offer", offersOnly(syncFrame{Kind: syncKindOffer, Msg: []byte("sealed junk")}), true},
		{"oversize offer", offersOnly(syncFrame{Kind: syncKindOffer, Msg: make([]byte, intent.MaxOfferSize+1)}), true},
		{"offer the request listed", offersOnly(syncFrame{Kind: syncKindOffer, Msg: good.Raw}), true},
		{"offer among the intents", intentsOnly(syncFrame{Kind: syncKindOffer, Msg: good.Raw}), true},
		{"accept forged with another intent's key", intentsOnly(syncFrame{Kind: syncKindTombstone, Msg: forgedAccept.Raw}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syncWithLiar(t, honest, fakeSyncPeerOn(t, syncProtocol2, tt.script), tt.violation)
		})
	}
	if !isLive(honest, in.ID) || hasTombstone(honest, in.ID) {
		t.Fatal("a forged accept closed the intent")
	}
	kept, err := honest.sync.haveOffers(t.Context(), "electronics")
	if err != nil || len(kept) != 1 || kept[0].prefix != prefixOf(good.ID) {
		t.Fatalf("the honest node keeps %v (%v), want only the valid offer", kept, err)
	}
	if st := honest.SyncStats(); st.Rejected < len(tests) {
		t.Errorf("stats count %d rejected, want at least %d", st.Rejected, len(tests))
	}
}

// TestSync2Vectors pins the frame vectors of docs/PROTOCOL.md,
// "Store-and-forward sync".
func TestSync2Vectors(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
		hex  string
	}{
		{"offers request", syncRequest{Category: "electronics", Live: packPrefixes([]uint64{0x0102030405060708}), Set: syncSetOffers},
			"1aa3006b656c656374726f6e696373034801020304050607080501"},
		{"offer frame", syncFrame{Kind: syncKindOffer, Msg: []byte{0xd0, 0x83}}, "07a200040142d083"},
		{"tombstone frame", syncFrame{Kind: syncKindTombstone, Msg: []byte{0xd2, 0x84}, Intent: []byte{0xd2, 0x84}}, "0ba300020142d2840242d284"},
	} {
		got, err := appendFrame(nil, tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if h := hex.EncodeToString(got); h != tt.hex {
			t.Errorf("%s: %s, want %s", tt.name, h, tt.hex)
		}
	}
	// And they parse back as /2 frames.
	if _, err := parseRequest(mustHex(t, "a3006b656c656374726f6e696373034801020304050607080501"), 2); err != nil {
		t.Errorf("the offers request vector does not parse: %v", err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
