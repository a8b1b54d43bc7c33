package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/intentcast/intentcast/node"
)

// The error codes of the peers endpoints.
const (
	CodeBadAddr      = "bad_addr"      // 400: not a dialable multiaddr ending in /p2p/<peer ID>
	CodeDialFailed   = "dial_failed"   // 502: the peer did not answer; the remote side's fault, not ours
	CodeNotConnected = "not_connected" // 404: no connection to that peer
)

// peerDialTimeout bounds POST /v1/peers: a dial that has not succeeded by
// then (every address, every transport) will not.
const peerDialTimeout = 30 * time.Second

// PeerInfo is one connected peer (GET /v1/peers).
type PeerInfo struct {
	ID string `json:"id"`
	// Addrs are the remote addresses of the connections.
	Addrs []string `json:"addrs"`
	// Relayed is true when every connection goes through a circuit relay
	// (no direct connection yet: hole punching may still bring one).
	Relayed     bool       `json:"relayed"`
	Connections []ConnInfo `json:"connections"`
	// LatencyMS is the smoothed ping round trip in milliseconds; absent
	// when unmeasured (relayed-only peers cannot be pinged).
	LatencyMS float64  `json:"latency_ms,omitempty"`
	Protocols []string `json:"protocols"`
}

// ConnInfo is one connection to a peer.
type ConnInfo struct {
	Addr      string    `json:"addr"`
	Direction string    `json:"direction"` // "inbound" or "outbound"
	Relayed   bool      `json:"relayed"`
	Opened    time.Time `json:"opened,omitzero"`
}

// ConnectRequest is the body of POST /v1/peers.
type ConnectRequest struct {
	// Addr is a multiaddr ending in /p2p/<peer ID>.
	Addr string `json:"addr"`
}

func peerInfo(p node.PeerStatus) PeerInfo {
	info := PeerInfo{
		ID:          p.ID.String(),
		Addrs:       []string{},
		Relayed:     p.Relayed(),
		Connections: []ConnInfo{},
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
		info.Connections = append(info.Connections, ConnInfo{Addr: c.Remote.String(), Direction: dir, Relayed: c.Relayed, Opened: c.Opened})
	}
	for _, proto := range p.Protocols {
		info.Protocols = append(info.Protocols, string(proto))
	}
	return info
}

func (s *Server) peers(w http.ResponseWriter, r *http.Request) {
	statuses := s.n.PeerStatuses(r.Context())
	out := make([]PeerInfo, 0, len(statuses))
	for _, p := range statuses {
		out = append(out, peerInfo(p))
	}
	writeJSON(w, http.StatusOK, out)
}

// connectPeer dials a peer at runtime (POST /v1/peers).
func (s *Server) connectPeer(w http.ResponseWriter, r *http.Request) {
	var req ConnectRequest
	if err := decode(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	addr, err := multiaddr.NewMultiaddr(req.Addr)
	if err != nil {
		writeError(w, errf(http.StatusBadRequest, CodeBadAddr,
			"addr %q is not a multiaddr (%v); want one ending in /p2p/<peer ID>, such as /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW...", req.Addr, err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), peerDialTimeout)
	defer cancel()
	id, err := s.n.ConnectAddr(ctx, addr)
	switch {
	case errors.Is(err, node.ErrBadAddr):
		writeError(w, errf(http.StatusBadRequest, CodeBadAddr, "%v", err))
		return
	case errors.Is(err, node.ErrClosed), r.Context().Err() != nil:
		s.fail(w, r, err)
		return
	case err != nil:
		writeError(w, errf(http.StatusBadGateway, CodeDialFailed,
			"%v; check the address and that the peer runs and is reachable from here (its firewall lets in its port)", err))
		return
	}
	for _, p := range s.n.PeerStatuses(r.Context()) {
		if p.ID == id {
			writeJSON(w, http.StatusOK, peerInfo(p))
			return
		}
	}
	writeError(w, errf(http.StatusBadGateway, CodeDialFailed, "connected to %s, but the peer closed the connection at once", id))
}

// disconnectPeer closes every connection to a peer (DELETE /v1/peers/{id}).
func (s *Server) disconnectPeer(w http.ResponseWriter, r *http.Request) {
	id, err := peer.Decode(r.PathValue("id"))
	if err != nil {
		writeError(w, errf(http.StatusBadRequest, CodeBadID, "%q is not a peer ID (%v); `intentcast peers` lists them", r.PathValue("id"), err))
		return
	}
	err = s.n.Disconnect(id)
	switch {
	case errors.Is(err, node.ErrNotConnected):
		writeError(w, errf(http.StatusNotFound, CodeNotConnected, "%v; `intentcast peers` lists the connected ones", err))
	case err != nil:
		s.fail(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// Peers lists the connected peers.
func (c *Client) Peers(ctx context.Context) ([]PeerInfo, error) {
	return get[[]PeerInfo](ctx, c, "/v1/peers")
}

// ConnectPeer dials the peer at addr (a multiaddr ending in /p2p/<peer ID>)
// and returns it once connected.
func (c *Client) ConnectPeer(ctx context.Context, addr string) (PeerInfo, error) {
	var p PeerInfo
	err := c.do(ctx, http.MethodPost, "/v1/peers", ConnectRequest{Addr: addr}, &p)
	return p, err
}

// DisconnectPeer closes every connection to the peer with that ID.
func (c *Client) DisconnectPeer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/peers/"+url.PathEscape(id), nil, nil)
}
