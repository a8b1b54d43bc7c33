package api

import (
	"context"
	"net/http"
)

// NetworkStatus answers GET /v1/network: how others can reach this node.
type NetworkStatus struct {
	// Reachability is AutoNAT's verdict: "public", "private" or "unknown".
	Reachability string `json:"reachability"`
	// Addrs are the addresses the node announces (listen, observed,
	// relayed), each ending in /p2p/<peer ID>.
	Addrs []string `json:"addrs"`
	// ReachableAddrs and UnreachableAddrs are AutoNAT v2's dial-back
	// verdicts on single addresses.
	ReachableAddrs   []string `json:"reachable_addrs"`
	UnreachableAddrs []string `json:"unreachable_addrs"`
	// RelayAddrs are the /p2p-circuit addresses: relays hold a slot for us.
	RelayAddrs []string `json:"relay_addrs"`
	// RelayService is true while this node serves as a relay for others.
	RelayService bool `json:"relay_service"`
	// DHT is "off", "client" or "server"; DHTPeers its routing table size.
	DHT      string `json:"dht"`
	DHTPeers int    `json:"dht_peers"`
	// Advertising are the categories announced on the DHT.
	Advertising []string `json:"advertising"`
	// Peers counts connections by kind.
	Peers        int `json:"peers"`
	RelayedPeers int `json:"relayed_peers"`
}

func (s *Server) network(w http.ResponseWriter, r *http.Request) {
	st := s.n.Reach()
	out := NetworkStatus{
		Reachability:     st.Reachability,
		Addrs:            addrStrings(st.Addrs),
		ReachableAddrs:   addrStrings(st.Reachable),
		UnreachableAddrs: addrStrings(st.Unreachable),
		RelayAddrs:       addrStrings(st.Relayed),
		RelayService:     st.RelayService,
		DHT:              st.DHT,
		DHTPeers:         st.DHTPeers,
		Advertising:      nonNilStrings(st.Advertising),
	}
	for _, p := range s.n.PeerStatuses(r.Context()) {
		out.Peers++
		if p.Relayed() {
			out.RelayedPeers++
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Network reports the node's reachability, addresses, relay and DHT state.
func (c *Client) Network(ctx context.Context) (NetworkStatus, error) {
	return get[NetworkStatus](ctx, c, "/v1/network")
}
