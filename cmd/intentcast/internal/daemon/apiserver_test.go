package daemon

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api"
)

// TestCloseDoesNotWaitForSilentConnections opens a connection to the API
// that sends nothing, as a browser's preconnect does: Close must not count
// it as a request in flight (http.Server.Shutdown does, for a connection's
// first 5 seconds), so it stops within a grace shorter than that, cleanly.
func TestCloseDoesNotWaitForSilentConnections(t *testing.T) {
	n, err := node.New(t.Context(), node.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		DataDir:     t.TempDir(),
		Categories:  []string{"electronics"},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	ln, err := ListenAPI("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	watch := &acceptWatch{Listener: ln, calls: make(chan struct{}, 2)}
	srv, err := ServeAPI(n, watch, api.ServerConfig{Token: "t", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// http.Server marks an accepted connection new (ConnState, which
	// tracks it) before it accepts the next: the second Accept call means
	// the server saw this one.
	for range 2 {
		select {
		case <-watch.calls:
		case <-t.Context().Done():
			t.Fatal("the server never accepted the silent connection")
		}
	}
	srv.mu.Lock()
	fresh := len(srv.fresh)
	srv.mu.Unlock()
	if fresh != 1 {
		t.Fatalf("%d connections tracked as not having sent a request; want the silent one", fresh)
	}
	if err := srv.Close(3 * time.Second); err != nil {
		t.Fatalf("Close with a silent connection open: %v", err)
	}
}

// acceptWatch is a listener that tells each call of Accept.
type acceptWatch struct {
	net.Listener
	calls chan struct{}
}

func (l *acceptWatch) Accept() (net.Conn, error) {
	select {
	case l.calls <- struct{}{}:
	default:
	}
	return l.Listener.Accept()
}
