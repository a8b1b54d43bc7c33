package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api"
)

// APIServer is a node's HTTP API serving on a listener: the daemon runs
// one, the swarm one per node.
type APIServer struct {
	api    *api.Server
	hs     *http.Server
	ln     net.Listener
	served chan error // receives Serve's result, once
	cancel context.CancelFunc
}

// ListenAPI opens the API's listener first, so a busy port fails before the
// node starts.
func ListenAPI(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("API listen on %s: %w (is another daemon running? use --api-addr 127.0.0.1:0 for a free port)", addr, err)
	}
	return ln, nil
}

// ServeAPI serves n's API on ln until Close.
func ServeAPI(n *node.Node, ln net.Listener, cfg api.ServerConfig) (*APIServer, error) {
	srv, err := api.NewServer(n, cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	// Request contexts derive from base: cancelling it ends whatever
	// Shutdown could not wait for.
	base, cancel := context.WithCancel(context.Background())
	s := &APIServer{
		api: srv,
		hs: &http.Server{
			Handler:           srv.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return base },
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:     ln,
		served: make(chan error, 1),
		cancel: cancel,
	}
	go func() { s.served <- s.hs.Serve(ln) }()
	return s, nil
}

// Addr returns the host:port the API listens on.
func (s *APIServer) Addr() string { return s.ln.Addr().String() }

// URL returns the API's base URL.
func (s *APIServer) URL() string { return "http://" + s.Addr() }

// Close stops the API: event streams and webhooks end, requests in flight
// get up to grace to finish, then the listener's goroutine is gone.
func (s *APIServer) Close(grace time.Duration) error {
	apiErr := s.api.Close() // ends event streams, so Shutdown need not wait for them
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.hs.Shutdown(ctx)
	if err != nil {
		s.cancel()
		err = errors.Join(err, s.hs.Close())
	}
	s.cancel()
	if serveErr := <-s.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(apiErr, err)
}
