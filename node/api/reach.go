package api

import (
	"github.com/intentcast/intentcast/node/api/client"

	"net/http"
)

func (s *Server) network(w http.ResponseWriter, r *http.Request) error {
	st := s.n.Reach()
	out := client.NetworkStatus{
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
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
