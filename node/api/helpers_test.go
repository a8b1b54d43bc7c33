package api

import (
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

const testToken = "t0ken-for-tests"

func prometheusRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://127.0.0.1"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func decodeError(t *testing.T, body []byte) client.ErrorDetail {
	t.Helper()
	var eb client.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if eb.Error.Message == "" {
		t.Errorf("error body %q has no message", body)
	}
	return eb.Error
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// apiNode is a real node served by a real Server on a loopback listener,
// with a Client of it.
type apiNode struct {
	n   *node.Node
	srv *Server
	url string
	c   *client.Client
}

type nodeOpts struct {
	bootstrap []string
	vendor    string
	dataDir   string
	minWork   int // 0 means 4
	server    func(*ServerConfig)
	tweak     func(*Server) // runs before the Server serves
}

// startAPI starts a node on loopback TCP (mDNS off, 4-bit proof of work,
// category electronics) and its API. Cleanup closes the Server, then the
// listener, then the node.
func startAPI(t *testing.T, o nodeOpts) *apiNode {
	t.Helper()
	n, err := node.New(t.Context(), node.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		DataDir:     t.TempDir(),
		Policy:      intent.Policy{MinWork: cmp.Or(o.minWork, 4), MinOfferWork: 4, MinRatingWork: 4},
		Categories:  []string{"electronics"},
		Bootstrap:   o.bootstrap,
		Vendor:      intent.Vendor{Name: o.vendor},
		Logger:      testLogger(t),
		PublishWait: 2 * time.Second,
	})
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("node Close: %v", err)
		}
	})
	cfg := ServerConfig{Token: testToken, DataDir: o.dataDir, Logger: testLogger(t), Version: "test", WebhookBackoff: 10 * time.Millisecond}
	if o.server != nil {
		o.server(&cfg)
	}
	srv, err := NewServer(n, cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	if o.tweak != nil {
		o.tweak(srv)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Server Close: %v", err)
		}
	})
	return &apiNode{n: n, srv: srv, url: hs.URL, c: client.New(hs.URL, testToken)}
}

// connected starts a customer and a vendor node and waits until they are
// peers.
func connected(t *testing.T) (customer, vendor *apiNode) {
	t.Helper()
	customer = startAPI(t, nodeOpts{})
	vendor = startAPI(t, nodeOpts{bootstrap: []string{customer.n.Addrs()[0].String()}, vendor: "Acme Laptops"})
	eventually(t, 10*time.Second, "the nodes are peers", func() bool {
		return len(customer.n.Peers()) > 0 && len(vendor.n.Peers()) > 0
	})
	return customer, vendor
}

// patience is the least time a test waits for a condition. The suite
// must pass on a busy 2-core machine, where starting a node or a gossip
// round can take many times what it takes on an idle one; a condition that
// holds ends the wait at once, so only a failing test pays the full wait.
const patience = 2 * time.Minute

// eventually polls cond until it holds, failing the test after timeout
// (at least patience).
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = max(timeout, patience)
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventLog keeps every event a stream delivered.
type eventLog struct {
	mu  sync.Mutex
	all []client.EventView
}

// count counts the events of a kind so far.
func (l *eventLog) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ev := range l.all {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// stream reads c's event stream into a channel (and log) until the test
// ends; the goroutine is stopped and awaited at cleanup.
func stream(t *testing.T, c *client.Client) (<-chan client.EventView, *eventLog) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan client.EventView, 1024)
	done := make(chan struct{})
	log := &eventLog{}
	go func() {
		defer close(done)
		defer close(ch)
		err := c.Events(ctx, func(ev client.EventView) error {
			log.mu.Lock()
			log.all = append(log.all, ev)
			log.mu.Unlock()
			select {
			case ch <- ev:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			t.Errorf("Events: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ch, log
}

// awaitEvent returns the first event from ch that matches, failing the
// test after patience or if the stream ends.
func awaitEvent(t *testing.T, ch <-chan client.EventView, what string, match func(client.EventView) bool) client.EventView {
	t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("waiting for %s: the event stream ended", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("waiting for %s: no such event within %v", what, patience)
		}
	}
}

// laptop is a valid publish request.
func laptop() client.PublishRequest {
	return client.PublishRequest{
		Category: "electronics", Path: []string{"laptops"}, Text: "light 14-inch laptop, 16 GB",
		MaxPrice: "1200.00", Currency: "EUR", Region: "DE",
	}
}
