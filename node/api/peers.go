package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// peerDialTimeout bounds POST /v1/peers: a dial that has not succeeded by
// then (every address, every transport) will not.
const peerDialTimeout = 30 * time.Second

func peerInfo(p node.PeerStatus) client.PeerInfo {
	info := client.PeerInfo{
		ID:          p.ID.String(),
		Addrs:       []string{},
		Relayed:     p.Relayed(),
		Connections: []client.ConnInfo{},
		Protocols:   []string{},
	}
	if p.Latency > 0 {
		info.LatencyMS = float64(p.Latency.Microseconds()) / 1000
	}
	for _, c := range p.Conns {
		dir := "inbound"
		if c.Outbound {
			dir = "outbound"
		}
		info.Addrs = append(info.Addrs, c.Remote.String())
		info.Connections = append(info.Connections, client.ConnInfo{Addr: c.Remote.String(), Direction: dir, Relayed: c.Relayed, Opened: c.Opened})
	}
	for _, proto := range p.Protocols {
		info.Protocols = append(info.Protocols, string(proto))
	}
	return info
}

func (s *Server) peers(w http.ResponseWriter, r *http.Request) error {
	statuses := s.n.PeerStatuses(r.Context())
	out := make([]client.PeerInfo, 0, len(statuses))
	for _, p := range statuses {
		out = append(out, peerInfo(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// connectPeer dials a peer at runtime (POST /v1/peers).
func (s *Server) connectPeer(w http.ResponseWriter, r *http.Request) error {
	var req client.ConnectRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	addr, err := multiaddr.NewMultiaddr(req.Addr)
	if err != nil {
		return errf(http.StatusBadRequest, client.CodeBadAddr,
			"addr %q is not a multiaddr (%v); want one ending in /p2p/<peer ID>, such as /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...", req.Addr, err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), peerDialTimeout)
	defer cancel()
	id, err := s.n.ConnectAddr(ctx, addr)
	switch {
	case errors.Is(err, node.ErrBadAddr):
		return errf(http.StatusBadRequest, client.CodeBadAddr, "%v", err)
	case errors.Is(err, node.ErrClosed), r.Context().Err() != nil:
		return err
	case err != nil:
		// Written, not returned: a peer that does not answer is not this
		// daemon's failure, so it is not logged as one (fail logs 5xx).
		writeError(w, errf(http.StatusBadGateway, client.CodeDialFailed,
			"%v; check the address and that the peer runs and is reachable from here (its firewall lets in its port)", err))
		return nil
	}
	for _, p := range s.n.PeerStatuses(r.Context()) {
		if p.ID == id {
			writeJSON(w, http.StatusOK, peerInfo(p))
			return nil
		}
	}
	writeError(w, errf(http.StatusBadGateway, client.CodeDialFailed, "connected to %s, but the peer closed the connection at once", id))
	return nil
}

// disconnectPeer closes every connection to a peer (DELETE /v1/peers/{id}).
func (s *Server) disconnectPeer(w http.ResponseWriter, r *http.Request) error {
	id, err := peer.Decode(r.PathValue("id"))
	if err != nil {
		return errf(http.StatusBadRequest, client.CodeBadID, "%q is not a peer ID (%v); `intentcast peers` lists them", r.PathValue("id"), err)
	}
	err = s.n.Disconnect(id)
	switch {
	case errors.Is(err, node.ErrNotConnected):
		return errf(http.StatusNotFound, client.CodeNotConnected, "%v; `intentcast peers` lists the connected ones", err)
	case err != nil:
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
