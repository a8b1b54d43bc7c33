package node

import (
	"bufio"
	"slices"
	"sync"
	"testing"
	"time"

	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// Sync versions in a mixed network (docs/PROTOCOL.md, "Sync versions"):
// each version carries its own sets, a node asks a peer only for the sets
// of the version they share, and a set the version does not carry gets
// End alone.

// TestSyncWithOldVersion2Peer: a node of before /3 speaks /2 with sets 0
// and 1, and drops a peer that asks for any other (as /2 nodes did when
// sets 2 to 4 were added under /2). A new node gets the intents and
// offers it serves, asking it nothing else, and neither drops the other.
func TestSyncWithOldVersion2Peer(t *testing.T) {
	n := startNode(t, syncTestConfig(t, false))
	now := time.Now()
	in, _ := mintIntent(t, "electronics", 0, now)
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	offer, _, err := intent.NewOffer(in, vendor, intent.OfferDraft{Price: 100, Vendor: intent.Vendor{Name: "v"}, Created: now, ValidUntil: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := offer.Mint(t.Context(), n.cfg.Policy.OfferWork()); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var asked []uint        // the sets n asked for
	var violations []string // what the old node would have dropped n for
	old := rawSyncPeer(t, syncProtocol2, func(st corenet.Stream, data []byte) []byte {
		var raw syncRequest
		if err := decodeSyncCBOR(data, &raw); err != nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, raw.Set)
		if raw.Set > syncSetOffers {
			violations = append(violations, "unknown set")
			return nil // the old node resets the stream and drops the peer
		}
		req, err := parseRequest(data, 2)
		if err != nil {
			violations = append(violations, err.Error())
			return nil
		}
		msg, id, kind := in.Raw, in.ID, uint(syncKindIntent)
		if req.Set == syncSetOffers {
			msg, id, kind = offer.Raw, offer.ID, syncKindOffer
		}
		if req.Category != "electronics" || !inRange(prefixOf(id), req.From, req.To) || req.hasLive(prefixOf(id)) || req.hasTomb(prefixOf(id)) {
			return frameBytes(t, syncEnd)
		}
		return frameBytes(t, syncFrame{Kind: kind, Msg: msg}, syncEnd)
	})
	if err := n.Connect(t.Context(), peer.AddrInfo{ID: old.ID(), Addrs: old.Addrs()}); err != nil {
		t.Fatal(err)
	}
	if err := n.sync.syncPeer(t.Context(), old.ID()); err != nil {
		t.Fatalf("sync with the old /2 node: %v", err)
	}
	eventually(t, 10*time.Second, "the intent and the offer of the old node arrive", func() bool {
		kept, err := n.sync.haveOffers(t.Context(), "electronics")
		return isLive(n, in.ID) && err == nil && len(kept) == 1 && kept[0].prefix == prefixOf(offer.ID)
	})
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("the old node would have dropped the new one: %v (sets asked: %v)", violations, asked)
	}
	if want := 2 * len(testCategories); len(asked) != want || slices.ContainsFunc(asked, func(s uint) bool { return s > syncSetOffers }) {
		t.Fatalf("the new node asked sets %v, want sets 0 and 1 of each of the %d categories", asked, len(testCategories))
	}
	if n.sync.streams.isBanned(old.ID()) || n.SyncStats().Rejected != 0 {
		t.Fatalf("the new node dropped the old one (%d rejected)", n.SyncStats().Rejected)
	}
}

// TestSyncProfilesOverVersion3: a vendor profile reaches a late joiner by
// sync between two new nodes, over /3, which carries set 4.
func TestSyncProfilesOverVersion3(t *testing.T) {
	early := startNode(t, syncTestConfig(t, false))
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	prof, err := intent.NewVendorProfile(t.Context(), vendor.Signing, intent.ProfileDraft{Name: "Acme", Created: time.Now()}, testRatingWork)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.checkTrust(t.Context(), prof.Raw); err != nil {
		t.Fatal(err)
	}

	// What early serves over /3, as any requester sees it.
	st, err := rawPeer(t, early).NewStream(t.Context(), early.ID(), syncProtocol3)
	if err != nil {
		t.Fatalf("open /3: %v", err)
	}
	defer st.Reset()
	got := askSync(t, st, bufio.NewReader(st), syncRequest{Category: "electronics", Set: syncSetProfiles})
	if len(got) != 2 || got[0].Kind != syncKindProfile || string(got[0].Msg) != string(prof.Raw) || got[1].Kind != syncKindEnd {
		t.Fatalf("set 4 over /3: %+v, want the profile and End", got)
	}

	late := startNode(t, syncTestConfig(t, false))
	connectNodes(t, late, early)
	if err := late.sync.syncPeer(t.Context(), early.ID()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the late joiner has the vendor's profile", func() bool {
		p := late.Reputation(vendor.Signing.Public()).Profile
		return p != nil && p.ID == prof.ID
	})
}

// TestSyncUnknownSet: a request for a set its version does not carry gets
// End alone, without a drop, and takes one of the session's rounds like
// any other request.
func TestSyncUnknownSet(t *testing.T) {
	n, in := syncServer(t)
	lim := defaultSyncLimits
	lim.maxRounds = 3
	n.sync.setLimits(lim)
	for _, tt := range []struct {
		proto   protocol.ID
		unknown uint
	}{
		{syncProtocol3, syncSetProfiles + 1},
		{syncProtocol2, syncSetProfiles}, // what a node of before /3 never asks: served empty by /2
	} {
		h := rawPeer(t, n)
		st, err := h.NewStream(t.Context(), n.ID(), tt.proto)
		if err != nil {
			t.Fatalf("open %s: %v", tt.proto, err)
		}
		r := bufio.NewReader(st)
		for range 2 {
			if got := askSync(t, st, r, syncRequest{Category: "electronics", Set: tt.unknown}); len(got) != 1 || got[0].Kind != syncKindEnd || got[0].More {
				t.Fatalf("set %d over %s: %+v, want End alone", tt.unknown, tt.proto, got)
			}
		}
		// The session goes on: its third round serves the intent...
		if got := askSync(t, st, r, syncRequest{Category: "electronics"}); len(got) != 2 || string(got[0].Msg) != string(in.Raw) {
			t.Fatalf("set 0 over %s after an unknown set: %+v, want the intent and End", tt.proto, got)
		}
		// ... and was its last: the two unknown ones counted.
		frame, err := appendFrame(nil, syncRequest{Category: "electronics", Set: tt.unknown})
		if err != nil {
			t.Fatal(err)
		}
		st.Write(frame) // may fail: the node is done with the stream
		st.SetReadDeadline(time.Now().Add(syncFrameTimeout))
		if _, _, err := readFrame(r, syncMaxRequestFrame); err == nil {
			t.Fatalf("a fourth request over %s was answered; the session has 3 rounds", tt.proto)
		}
		st.Reset()
		if n.sync.streams.isBanned(h.ID()) {
			t.Fatalf("the node dropped the peer that asked set %d over %s", tt.unknown, tt.proto)
		}
	}
	eventually(t, 10*time.Second, "both sessions counted as served", func() bool { return n.SyncStats().Served == 2 })
	if s := n.SyncStats(); s.Refused != 0 {
		t.Fatalf("the node refused %d sessions", s.Refused)
	}
	// Two sessions, each asking the unknown set twice (the fourth
	// request went unanswered); a set asked again within a session is
	// still counted, as the rounds it takes are.
	if s := n.SyncStats(); s.ServedUnknownSets != 4 {
		t.Fatalf("ServedUnknownSets = %d, want 4", s.ServedUnknownSets)
	}
}

// askSync writes req on st and reads the response from r, up to its End.
func askSync(t *testing.T, st corenet.Stream, r *bufio.Reader, req syncRequest) []*syncFrame {
	t.Helper()
	frame, err := appendFrame(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(frame); err != nil {
		t.Fatalf("write request: %v", err)
	}
	version := syncVersion(st)
	var out []*syncFrame
	for {
		st.SetReadDeadline(time.Now().Add(syncFrameTimeout))
		data, _, err := readFrame(r, maxItemFrame(version))
		if err != nil {
			t.Fatalf("read response to set %d: %v (after %d frames)", req.Set, err, len(out))
		}
		f, err := parseFrame(data, version)
		if err != nil {
			t.Fatal(err)
		}
		if out = append(out, f); f.Kind == syncKindEnd {
			return out
		}
	}
}
