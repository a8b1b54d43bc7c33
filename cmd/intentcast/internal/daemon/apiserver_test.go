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
	srv, err := ServeAPI(n, ln, api.ServerConfig{Token: "t", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		srv.mu.Lock()
		seen := len(srv.fresh) == 1
		srv.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never saw the silent connection")
		}
		time.Sleep(10 * time.Millisecond) // polling for a condition
	}
	if err := srv.Close(3 * time.Second); err != nil {
		t.Fatalf("Close with a silent connection open: %v", err)
	}
}
