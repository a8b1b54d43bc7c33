package api

import (
	"github.com/intentcast/intentcast/node/api/client"

	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The peers endpoints connect and disconnect real nodes, and answer every
// bad request with a code that says what is wrong.
func TestPeersConnectDisconnect(t *testing.T) {
	a, b := startAPI(t, nodeOpts{}), startAPI(t, nodeOpts{})
	bAddr := b.n.Addrs()[0].String()

	p, err := a.c.ConnectPeer(t.Context(), bAddr)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != b.n.ID().String() || p.Relayed || len(p.Connections) == 0 || p.Connections[0].Direction != "outbound" {
		t.Errorf("ConnectPeer answered %+v; want b, direct, outbound", p)
	}
	eventually(t, 10*time.Second, "a lists b with its protocols", func() bool {
		peers, err := a.c.Peers(t.Context())
		return err == nil && len(peers) == 1 && peers[0].ID == b.n.ID().String() && len(peers[0].Protocols) > 0
	})

	ns, err := a.c.Network(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ns.Reachability != "unknown" || ns.DHT != "off" || ns.Peers != 1 || ns.RelayService || len(ns.Addrs) == 0 {
		t.Errorf("GET /v1/network = %+v; want unknown reachability (loopback), no DHT, 1 peer, no relay service", ns)
	}

	// A closed port (one we listened on and closed) of a peer nobody runs.
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	nobody, _ := peer.IDFromPrivateKey(k)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "/ip4/127.0.0.1/tcp/" + portOf(ln.Addr()) + "/p2p/" + nobody.String()
	ln.Close()
	for _, tt := range []struct {
		name, addr string
		status     int
		code       string
	}{
		{"not a multiaddr", "203.0.113.7:4001", http.StatusBadRequest, client.CodeBadAddr},
		{"no peer ID", "/ip4/127.0.0.1/tcp/4001", http.StatusBadRequest, client.CodeBadAddr},
		{"itself", a.n.Addrs()[0].String(), http.StatusBadRequest, client.CodeBadAddr},
		{"nobody there", closed, http.StatusBadGateway, client.CodeDialFailed},
	} {
		_, err := a.c.ConnectPeer(t.Context(), tt.addr)
		if e := asError(t, err); e.Status != tt.status || e.Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, e.Status, e.Code, tt.status, tt.code)
		}
	}

	if e := asError(t, a.c.DisconnectPeer(t.Context(), "not-a-peer")); e.Status != http.StatusBadRequest || e.Code != client.CodeBadID {
		t.Errorf("disconnect a bad ID: %d %s", e.Status, e.Code)
	}
	if e := asError(t, a.c.DisconnectPeer(t.Context(), a.n.ID().String())); e.Status != http.StatusNotFound || e.Code != client.CodeNotConnected {
		t.Errorf("disconnect an unconnected peer: %d %s", e.Status, e.Code)
	}
	if err := a.c.DisconnectPeer(t.Context(), b.n.ID().String()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.n.Peers(), b.n.ID()) {
		t.Errorf("b is still connected after DELETE /v1/peers/{id}")
	}
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
