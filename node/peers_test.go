package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A node restarted on new ports redials, from its address book, both a peer
// it had dialled and a peer that had dialled it, with no bootstrap list.
func TestRestartRedialsKnownPeers(t *testing.T) {
	dir := t.TempDir()
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	restartable := func() Config {
		cfg := nodeConfig(t)
		cfg.DataDir, cfg.PrivKey = dir, key
		return cfg
	}
	a := startNode(t, restartable())
	dialled := startNode(t, nodeConfig(t))
	dialler := startNode(t, nodeConfig(t))
	if _, err := a.ConnectAddr(t.Context(), dialled.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := dialler.ConnectAddr(t.Context(), a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	// Identify tells a the dialler's listen address (not the port it dialled from).
	eventually(t, 20*time.Second, "a learns the dialler's listen address", func() bool {
		return slices.ContainsFunc(a.net.host.Peerstore().Addrs(dialler.ID()), func(x ma.Multiaddr) bool { return x.Equal(dialler.net.host.Addrs()[0]) })
	})
	oldAddr := a.Addrs()[0]
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	book := readBook(t, filepath.Join(dir, PeersFile))
	for _, want := range []struct {
		id      peer.ID
		dialled bool
	}{{dialled.ID(), true}, {dialler.ID(), false}} {
		i := slices.IndexFunc(book.Peers, func(e bookEntry) bool { return e.ID == want.id })
		if i < 0 {
			t.Fatalf("address book %+v lacks %s", book.Peers, want.id)
		}
		if book.Peers[i].Dialled != want.dialled {
			t.Errorf("peer %s: dialled = %v, want %v", want.id, book.Peers[i].Dialled, want.dialled)
		}
	}

	a2 := startNode(t, restartable())
	if a2.Addrs()[0].Equal(oldAddr) {
		t.Fatalf("restarted node got its old address %s again; the test needs a new port", oldAddr)
	}
	eventually(t, 30*time.Second, "the restarted node is connected to both known peers", func() bool {
		peers := a2.Peers()
		return slices.Contains(peers, dialled.ID()) && slices.Contains(peers, dialler.ID())
	})

	// Disconnect closes the connection and forgets the peer, so the next
	// restart does not redial it.
	if err := a2.Disconnect(dialled.ID()); err != nil {
		t.Fatal(err)
	}
	if err := a2.Disconnect(dialled.ID()); !errors.Is(err, ErrNotConnected) {
		t.Errorf("second Disconnect: %v, want ErrNotConnected", err)
	}
	if err := a2.Close(); err != nil {
		t.Fatal(err)
	}
	book = readBook(t, filepath.Join(dir, PeersFile))
	if slices.ContainsFunc(book.Peers, func(e bookEntry) bool { return e.ID == dialled.ID() }) {
		t.Errorf("address book still holds the disconnected peer: %+v", book.Peers)
	}
}

func readBook(t *testing.T, path string) bookFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f bookFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// A malformed address book costs the node its book, never its start.
func TestCorruptAddressBook(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":       "{\"version\":1,\"peers\":[{",
		"future version": `{"version":2,"peers":[]}`,
		"bad entries":    `{"version":1,"peers":[{"id":"nope","addrs":["/ip4/127.0.0.1/tcp/1"]},{"id":"12D3KooWRBhwfeP2Y9CDkFRBAZ1pmxUadH36TKuk3KvKm5XXP8mA","addrs":["garbage"]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg := nodeConfig(t)
			if err := os.WriteFile(filepath.Join(cfg.DataDir, PeersFile), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			n := startNode(t, cfg)
			if got := n.net.book.redialList(); len(got) != 0 {
				t.Errorf("redial list from a bad book: %v", got)
			}
		})
	}
}

// Peers that dialled us can fill only the inbound quota: a flood of fresh
// identities never evicts the peers this node chose to dial.
func TestAddressBookQuotas(t *testing.T) {
	b := loadAddrBook("", "", nil)
	now := time.Now()
	add := func(i int, dialled bool, seen time.Time) peer.ID {
		k, _, _ := crypto.GenerateEd25519Key(nil)
		id, _ := peer.IDFromPrivateKey(k)
		b.peers[id] = bookEntry{ID: id, Addrs: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 1000+i)}, Dialled: dialled, LastSeen: seen}
		return id
	}
	var chosen []peer.ID
	for i := range bookMaxDialled {
		chosen = append(chosen, add(i, true, now.Add(-time.Hour)))
	}
	for i := range 10 * bookMaxInbound {
		add(1000+i, false, now)
	}
	b.trim()
	dialled, inbound := 0, 0
	for _, e := range b.peers {
		if e.Dialled {
			dialled++
		} else {
			inbound++
		}
	}
	if dialled != bookMaxDialled || inbound != bookMaxInbound {
		t.Errorf("after the flood: %d dialled, %d inbound; want %d and %d", dialled, inbound, bookMaxDialled, bookMaxInbound)
	}
	for _, id := range chosen {
		if _, ok := b.peers[id]; !ok {
			t.Fatalf("a dialled peer was evicted by inbound ones")
		}
	}
	list := b.redialList()
	if len(list) != bookRedial || !slices.Contains(chosen, list[0].ID) {
		t.Errorf("redial list has %d peers (want %d), dialled ones first", len(list), bookRedial)
	}
}

// PeerStatuses tells direct from relayed, measures latency and lists the
// protocols identify announced.
func TestPeerStatuses(t *testing.T) {
	a, b := startNode(t, nodeConfig(t)), startNode(t, nodeConfig(t))
	if _, err := a.ConnectAddr(t.Context(), b.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	var st PeerStatus
	eventually(t, 20*time.Second, "b's protocols are known", func() bool {
		ps := a.PeerStatuses(t.Context())
		if len(ps) != 1 {
			return false
		}
		st = ps[0]
		return slices.Contains(st.Protocols, gossipSubProtocol)
	})
	if st.ID != b.ID() || st.Relayed() || st.Latency <= 0 || len(st.Conns) == 0 || !st.Conns[0].Outbound {
		t.Errorf("status of b = %+v; want b, direct, a latency, an outbound connection", st)
	}
	if _, err := a.ConnectAddr(t.Context(), a.Addrs()[0]); !errors.Is(err, ErrBadAddr) {
		t.Errorf("ConnectAddr to itself: %v, want ErrBadAddr", err)
	}
	noID, _ := ma.NewMultiaddr("/ip4/127.0.0.1/tcp/1")
	if _, err := a.ConnectAddr(t.Context(), noID); !errors.Is(err, ErrBadAddr) {
		t.Errorf("ConnectAddr without /p2p/: %v, want ErrBadAddr", err)
	}
	onlyID, _ := ma.NewMultiaddr("/p2p/" + b.ID().String())
	if _, err := a.ConnectAddr(t.Context(), onlyID); !errors.Is(err, ErrBadAddr) {
		t.Errorf("ConnectAddr to /p2p/<ID> with the DHT off: %v, want ErrBadAddr", err)
	}
}

// Every combination of the NAT traversal switches starts a node.
func TestReachConfigsStart(t *testing.T) {
	for _, c := range []struct{ disable, relay bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		cfg := nodeConfig(t)
		cfg.DisableNATTraversal, cfg.RelayService, cfg.Reachability = c.disable, c.relay, "private"
		n := startNode(t, cfg)
		if st := n.Reach(); st.RelayService {
			t.Errorf("%+v: a private node serves as a relay", c)
		}
	}
}

// A node told it is public serves as a relay when RelayService is on, and
// reports it.
func TestPublicRelayServes(t *testing.T) {
	cfg := nodeConfig(t)
	cfg.RelayService, cfg.Reachability = true, "public"
	n := startNode(t, cfg)
	eventually(t, 20*time.Second, "the relay service runs", func() bool {
		st := n.Reach()
		return st.RelayService && st.Reachability == "public"
	})
}

// A node with enough connections (ConnLow) but too few peers on a
// category's topic still redials its bootstrap peers.
func TestShortOfTopicPeersRedialsBootstrap(t *testing.T) {
	boot := startNode(t, nodeConfig(t))
	other := startNode(t, nodeConfig(t))
	cfg := nodeConfig(t)
	cfg.Bootstrap = addrsOf(boot)
	cfg.ConnLow, cfg.ConnHigh = 1, 8
	n := startNode(t, cfg)
	if _, err := n.ConnectAddr(t.Context(), other.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the node connects to its bootstrap peer", func() bool { return slices.Contains(n.Peers(), boot.ID()) })
	if err := n.Disconnect(boot.ID()); err != nil {
		t.Fatal(err)
	}
	// One connection left meets ConnLow; the topics have fewer than D_lo peers.
	eventually(t, 60*time.Second, "the node redials its bootstrap peer", func() bool { return slices.Contains(n.Peers(), boot.ID()) })
}
