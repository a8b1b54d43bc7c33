package api

import (
	"github.com/intentcast/intentcast/node/api/client"

	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a webhook endpoint that answers with the statuses it is
// given, in turn (then 200), and records every attempt.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	attempts []attempt
	*httptest.Server
}

type attempt struct {
	delivery, event, timestamp, signature string
	body                                  []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.attempts = append(rc.attempts, attempt{
			r.Header.Get("X-Intentcast-Delivery"), r.Header.Get("X-Intentcast-Event"),
			r.Header.Get("X-Intentcast-Timestamp"), r.Header.Get("X-Intentcast-Signature"), body,
		})
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) seen() []attempt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]attempt(nil), rc.attempts...)
}

// webhook returns the one webhook's state as GET /v1/webhooks shows it.
func webhook(t *testing.T, c *client.Client, id string) client.Webhook {
	t.Helper()
	hooks, err := c.Webhooks(t.Context())
	if err != nil {
		t.Fatalf("Webhooks: %v", err)
	}
	for _, h := range hooks {
		if h.ID == id {
			return h
		}
	}
	t.Fatalf("webhook %s is not listed in %+v", id, hooks)
	return client.Webhook{}
}

// TestWebhookRetries: a receiver that fails twice with 500 gets the same
// delivery three times, the last one succeeds; a receiver that answers 400
// is not retried.
func TestWebhookRetries(t *testing.T) {
	customer, _ := connected(t)
	ctx := t.Context()
	flaky := newReceiver(t, 500, 500)
	refusing := newReceiver(t, 400, 400, 400)
	hf, err := customer.c.AddWebhook(ctx, flaky.URL, []string{"intent-posted"})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := customer.c.AddWebhook(ctx, refusing.URL, []string{"intent-posted"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := customer.c.PublishIntent(ctx, laptop(), nil)
	if err != nil {
		t.Fatal(err)
	}

	eventually(t, 10*time.Second, "the flaky receiver gets the delivery", func() bool { return webhook(t, customer.c, hf.ID).Delivered == 1 })
	got := flaky.seen()
	if len(got) != 3 {
		t.Fatalf("flaky receiver saw %d attempts; want 3 (500, 500, 200)", len(got))
	}
	for i, a := range got {
		if a.delivery != got[0].delivery || a.event != "intent-posted" {
			t.Errorf("attempt %d: delivery %q event %q; want the same delivery %q of intent-posted", i, a.delivery, a.event, got[0].delivery)
		}
		if err := client.VerifySignature(hf.Secret, a.timestamp, a.signature, a.body, time.Minute, time.Now()); err != nil {
			t.Errorf("attempt %d: %v", i, err)
		}
		var ev client.EventView
		if err := json.Unmarshal(a.body, &ev); err != nil || ev.IntentID != in.ID || ev.Intent == nil || ev.Intent.ID != in.ID {
			t.Errorf("attempt %d: body %s (%v)", i, a.body, err)
		}
	}
	if h := webhook(t, customer.c, hf.ID); h.Failed != 0 || !strings.Contains(h.LastError, "500") {
		t.Errorf("flaky webhook %+v; want no failure and the last error naming the 500", h)
	}

	eventually(t, 10*time.Second, "the refusing receiver's delivery fails", func() bool { return webhook(t, customer.c, hr.ID).Failed == 1 })
	if n := len(refusing.seen()); n != 1 {
		t.Errorf("refusing receiver saw %d attempts; a 400 must not be retried", n)
	}
	if h := webhook(t, customer.c, hr.ID); h.Delivered != 0 || !strings.Contains(h.LastError, "400") {
		t.Errorf("refusing webhook %+v", h)
	}
}

// TestWebhookGivesUp: a receiver that always fails gets every attempt,
// then the delivery counts as failed.
func TestWebhookGivesUp(t *testing.T) {
	customer, _ := connected(t)
	dead := newReceiver(t, 503, 503, 503, 503, 503, 503, 503, 503)
	h, err := customer.c.AddWebhook(t.Context(), dead.URL, []string{"intent-posted"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := customer.c.PublishIntent(t.Context(), laptop(), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the delivery fails", func() bool { return webhook(t, customer.c, h.ID).Failed == 1 })
	if n := len(dead.seen()); n != webhookAttempts {
		t.Errorf("%d attempts; want %d", n, webhookAttempts)
	}
}

// TestWebhooksPersist: webhooks survive a restart of the API, in a 0600
// file; deleting one removes it from the file.
func TestWebhooksPersist(t *testing.T) {
	dir := t.TempDir()
	a := startAPI(t, nodeOpts{dataDir: dir})
	h, err := a.c.AddWebhook(t.Context(), "http://127.0.0.1:9/hook", []string{"offer", "accept", "offer"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(h.Events, ",") != "offer,accept" {
		t.Errorf("events %v; want duplicates removed", h.Events)
	}
	path := filepath.Join(dir, WebhooksFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v; want 0600 (it holds secrets)", path, fi.Mode().Perm())
	}

	// A second server on the same data dir loads it, secret included.
	srv2, err := NewServer(a.n, ServerConfig{Token: testToken, DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	srv2.hooks.mu.Lock()
	loaded := srv2.hooks.hooks[h.ID]
	srv2.hooks.mu.Unlock()
	if loaded == nil || loaded.Secret != h.Secret || loaded.URL != h.URL {
		t.Fatalf("restarted server has webhook %+v; want %+v", loaded, h)
	}

	if err := a.c.DeleteWebhook(t.Context(), h.ID); err != nil {
		t.Fatal(err)
	}
	if hooks, err := a.c.Webhooks(t.Context()); err != nil || len(hooks) != 0 {
		t.Errorf("after delete: %+v, %v", hooks, err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), h.ID) {
		t.Errorf("deleted webhook is still in the file: %s", data)
	}
	err = a.c.DeleteWebhook(t.Context(), h.ID)
	if e := asError(t, err); e.Status != 404 || e.Code != client.CodeUnknownWebhook {
		t.Errorf("deleting twice: %+v", e)
	}

	// A corrupt file stops the server with a story, not silently.
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(a.n, ServerConfig{Token: testToken, DataDir: dir}); err == nil || !strings.Contains(err.Error(), "webhooks.json") {
		t.Errorf("NewServer with a corrupt webhooks.json: %v", err)
	}
}

// TestNewServerNeedsToken: no token, no API.
func TestNewServerNeedsToken(t *testing.T) {
	a := startAPI(t, nodeOpts{})
	if _, err := NewServer(a.n, ServerConfig{Token: "  "}); err == nil {
		t.Error("NewServer without a token: no error")
	}
}

// TestStreamEnds: the event stream sends heartbeats, and ends when the
// Server closes; Close is idempotent.
func TestStreamEnds(t *testing.T) {
	a := startAPI(t, nodeOpts{tweak: func(s *Server) { s.heartbeat = 10 * time.Millisecond }})
	req, _ := http.NewRequestWithContext(t.Context(), "GET", a.url+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	// Read until a heartbeat arrived after the replay-end.
	buf := make([]byte, 0, 4096)
	for !strings.Contains(string(buf), "event: replay-end") || !strings.Contains(string(buf), ": ping") {
		chunk := make([]byte, 512)
		n, err := resp.Body.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			t.Fatalf("stream ended before a heartbeat: %v; got %q", err, buf)
		}
	}
	if i, j := strings.Index(string(buf), "event: replay-end"), strings.Index(string(buf), ": ping"); i > j {
		t.Errorf("heartbeat before the replay ended: %q", buf)
	}

	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		ended <- err
	}()
	if err := a.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("stream ended with %v; want a clean end", err)
		}
	case <-time.After(patience):
		t.Fatal("the stream did not end when the Server closed")
	}
}

// TestClientEventsEndsWithContext: Events returns ctx's error when the
// caller cancels.
func TestClientEventsEndsWithContext(t *testing.T) {
	a := startAPI(t, nodeOpts{})
	ctx, cancel := context.WithCancel(t.Context())
	var kinds []string
	err := a.c.Events(ctx, func(ev client.EventView) error {
		kinds = append(kinds, ev.Kind)
		if ev.Kind == client.KindReplayEnd {
			cancel()
		}
		return nil
	})
	if err != context.Canceled {
		t.Errorf("Events = %v; want context.Canceled", err)
	}
	if len(kinds) != 1 || kinds[0] != client.KindReplayEnd {
		t.Errorf("events of an empty node: %v; want only replay-end", kinds)
	}
}

// TestCloseStopsWorkers: once Close returns, no goroutine of the Server's
// webhook machinery is left, even with a delivery waiting in backoff.
func TestCloseStopsWorkers(t *testing.T) {
	// A retry would wait for an hour.
	customer := startAPI(t, nodeOpts{server: func(c *ServerConfig) { c.WebhookBackoff = time.Hour }})
	vendor := startAPI(t, nodeOpts{bootstrap: []string{customer.n.Addrs()[0].String()}})
	eventually(t, 10*time.Second, "the nodes are peers", func() bool { return len(customer.n.Peers()) > 0 })
	dead := newReceiver(t, 503)
	if _, err := customer.c.AddWebhook(t.Context(), dead.URL, []string{"intent-posted"}); err != nil {
		t.Fatal(err)
	}
	if _, err := customer.c.PublishIntent(t.Context(), laptop(), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the first attempt failed", func() bool { return len(dead.seen()) == 1 })
	if !hasGoroutine("(*webhooks).work") || !hasGoroutine("(*webhooks).dispatch") {
		t.Fatalf("no webhook goroutines while running:\n%s", stacks())
	}
	done := make(chan struct{})
	go func() {
		customer.srv.Close()
		vendor.srv.Close() // its dispatcher too, so that none is left
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(patience):
		t.Fatal("Close did not return while a delivery waited in backoff")
	}
	// Close waits for each worker's last call, wg.Done; the goroutine may
	// still be returning from it when Close returns, so a leak is one that
	// stays, not one caught on its way out (goleak retries for the same
	// reason). The stacks that named one are logged if it stayed.
	var left string
	t.Cleanup(func() {
		if t.Failed() && left != "" {
			t.Logf("goroutines when last checked:\n%s", left)
		}
	})
	eventually(t, patience, "no webhook goroutine is left after Close", func() bool {
		if hasGoroutine("(*webhooks).") {
			left = stacks()
			return false
		}
		return true
	})
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func hasGoroutine(fn string) bool {
	for _, g := range strings.Split(stacks(), "\n\n") {
		if strings.Contains(g, "node/api."+fn) {
			return true
		}
	}
	return false
}

// TestWebhookRefusesRedirects: a receiver that redirects the signed POST
// elsewhere (here to another listener, standing for any URL the daemon's
// host can reach) gets one attempt; the target gets nothing, and the
// failure says why. A password in the URL is never listed back.
func TestWebhookRefusesRedirects(t *testing.T) {
	customer, _ := connected(t)
	target := newReceiver(t)
	bouncer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/stolen", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(bouncer.Close)
	withPassword := strings.Replace(bouncer.URL, "http://", "http://hook:s3cret-pass@", 1)
	h, err := customer.c.AddWebhook(t.Context(), withPassword, []string{"intent-posted"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := customer.c.PublishIntent(t.Context(), laptop(), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the redirected delivery fails", func() bool { return webhook(t, customer.c, h.ID).Failed == 1 })
	if n := len(target.seen()); n != 0 {
		t.Errorf("the redirect target got %d requests; redirects must not be followed", n)
	}
	listed := webhook(t, customer.c, h.ID)
	if !strings.Contains(listed.LastError, "redirect") {
		t.Errorf("last error %q does not say the receiver redirected", listed.LastError)
	}
	if strings.Contains(listed.URL, "s3cret-pass") || !strings.Contains(listed.URL, "hook:xxxxx@") {
		t.Errorf("listed URL %q: want the password redacted", listed.URL)
	}
}
