package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
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

	mu    sync.Mutex
	fresh map[net.Conn]bool // connections that have not sent a request yet
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
		fresh:  make(map[net.Conn]bool),
	}
	s.hs.ConnState = s.track
	s.hs.RegisterOnShutdown(s.closeFresh)
	go func() { s.served <- s.hs.Serve(ln) }()
	return s, nil
}

// Addr returns the host:port the API listens on.
func (s *APIServer) Addr() string { return s.ln.Addr().String() }

// URL returns the API's base URL.
func (s *APIServer) URL() string { return "http://" + s.Addr() }

// track follows which connections have not sent a request yet, for
// closeFresh.
func (s *APIServer) track(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st == http.StateNew {
		s.fresh[c] = true
	} else {
		delete(s.fresh, c)
	}
}

// closeFresh closes the connections that have not sent a request: nothing
// is in flight on them, yet http.Server.Shutdown counts such a connection
// as active for its first 5 seconds, so one a browser opened ahead of time
// (or a client whose request was cancelled as it dialed) held every stop
// for the whole grace and made it fail. Shutdown calls it once its
// listeners are closed, so no new one comes.
func (s *APIServer) closeFresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.fresh {
		c.Close()
	}
}

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
