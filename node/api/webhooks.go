package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// Webhooks push the node's events to HTTP receivers (a vendor's shop
// system, a chat bot). Each receiver has its own bounded queue and one
// worker: a slow or dead receiver delays only itself, and the node is
// never blocked. When a queue is full the oldest event is dropped and
// counted. Every delivery is a POST of the EventView as JSON, signed:
//
//	X-Intentcast-Event:     <kind>
//	X-Intentcast-Delivery:  <delivery id, the same on every retry>
//	X-Intentcast-Timestamp: <unix seconds of this attempt>
//	X-Intentcast-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// A 2xx answer is success; a network error, 408, 429 or 5xx is retried
// with exponential backoff (1 s, 2 s, 4 s, 8 s, 16 s); any other answer is
// final. Webhooks are kept in DataDir/webhooks.json (mode 0600: it holds
// the secrets).

const (
	// WebhooksFile is the file name of the webhooks in ServerConfig.DataDir.
	WebhooksFile = "webhooks.json"
	// webhookQueue bounds each receiver's queue of pending events.
	webhookQueue = 256
	// webhookAttempts is the first attempt plus the retries.
	webhookAttempts = 6
	// maxWebhooks bounds how many receivers one node feeds.
	maxWebhooks = 32
)

// eventKinds are the kinds a webhook may subscribe to.
var eventKinds = []string{
	client.KindIntent, client.KindCancel, client.KindOffer, client.KindOfferSent,
	client.KindAccept, client.KindAccepted, client.KindIntentPosted,
	client.KindRating, client.KindRatingReply, client.KindVendorProfile,
}

// webhooks is the set of receivers and their workers.
type webhooks struct {
	s    *Server
	path string // "" = not persisted

	mu     sync.Mutex
	hooks  map[string]*hook
	closed bool // set by stopAll: no worker starts after it
}

// hook is one receiver with its queue and worker.
type hook struct {
	client.Webhook // as stored; the counters live below

	ctx    context.Context // ends when the hook is deleted or the Server closes
	cancel context.CancelFunc
	done   chan struct{} // closed when the worker has returned
	wake   chan struct{} // cap 1: "the queue is not empty"

	mu        sync.Mutex
	queue     []delivery
	lastError string

	delivered, failed, dropped atomic.Uint64
}

// delivery is one event on its way to one receiver.
type delivery struct {
	id   string
	kind string
	body []byte
}

// storedHook is a webhook as webhooks.json keeps it.
type storedHook struct {
	ID      string    `json:"id"`
	URL     string    `json:"url"`
	Events  []string  `json:"events"`
	Secret  string    `json:"secret"`
	Created time.Time `json:"created"`
}

type webhooksFile struct {
	Version  int          `json:"version"`
	Webhooks []storedHook `json:"webhooks"`
}

// newWebhooks loads the stored webhooks and starts their workers.
func (s *Server) newWebhooks() (*webhooks, error) {
	wh := &webhooks{s: s, hooks: make(map[string]*hook)}
	if s.cfg.DataDir == "" {
		return wh, nil
	}
	wh.path = filepath.Join(s.cfg.DataDir, WebhooksFile)
	data, err := os.ReadFile(wh.path)
	if errors.Is(err, os.ErrNotExist) {
		return wh, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api: read webhooks: %w", err)
	}
	var f webhooksFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("api: %s is not valid JSON (%v); fix it or move it away to start without webhooks", wh.path, err)
	}
	for _, st := range f.Webhooks { // check them all before any worker starts
		if st.ID == "" || st.Secret == "" || checkWebhookURL(st.URL) != nil {
			return nil, fmt.Errorf("api: %s: webhook %q is incomplete or has a bad URL; fix it or move the file away", wh.path, st.ID)
		}
	}
	for _, st := range f.Webhooks {
		wh.start(client.Webhook{ID: st.ID, URL: st.URL, Events: st.Events, Secret: st.Secret, Created: st.Created})
	}
	return wh, nil
}

// start adds a hook and starts its worker; wh.mu is held or not yet shared.
func (wh *webhooks) start(w client.Webhook) *hook {
	if w.Events == nil {
		w.Events = []string{}
	}
	h := &hook{Webhook: w, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	h.ctx, h.cancel = context.WithCancel(wh.s.ctx)
	wh.hooks[w.ID] = h
	wh.s.wg.Add(1)
	go func() {
		defer wh.s.wg.Done()
		defer close(h.done)
		wh.work(h)
	}()
	return h
}

// stopAll stops every worker and waits for them; later adds are refused.
func (wh *webhooks) stopAll() {
	wh.mu.Lock()
	wh.closed = true
	hooks := make([]*hook, 0, len(wh.hooks))
	for _, h := range wh.hooks {
		hooks = append(hooks, h)
	}
	wh.mu.Unlock()
	for _, h := range hooks {
		h.cancel()
		<-h.done
	}
}

// save writes the webhooks to their file atomically, mode 0600. wh.mu is
// held.
func (wh *webhooks) save() error {
	if wh.path == "" {
		return nil
	}
	f := webhooksFile{Version: 1, Webhooks: []storedHook{}}
	for _, h := range wh.sorted() {
		f.Webhooks = append(f.Webhooks, storedHook{ID: h.ID, URL: h.URL, Events: h.Events, Secret: h.Secret, Created: h.Created})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(wh.path, append(data, '\n')); err != nil {
		return fmt.Errorf("save webhooks: %w", err)
	}
	return nil
}

// sorted returns the hooks oldest first; wh.mu is held.
func (wh *webhooks) sorted() []*hook {
	out := make([]*hook, 0, len(wh.hooks))
	for _, h := range wh.hooks {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b *hook) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// view is the hook as GET /v1/webhooks shows it: counters, no secret.
func (h *hook) view() client.Webhook {
	w := h.Webhook
	w.Secret = ""
	w.URL = redactURL(w.URL)
	w.Delivered, w.Failed, w.Dropped = h.delivered.Load(), h.failed.Load(), h.dropped.Load()
	h.mu.Lock()
	w.LastError = h.lastError
	h.mu.Unlock()
	return w
}

func (h *hook) wants(kind string) bool {
	return len(h.Events) == 0 || slices.Contains(h.Events, kind)
}

// enqueue adds d to the queue, dropping the oldest if it is full. It never
// blocks.
func (h *hook) enqueue(d delivery, m *apiMetrics) {
	h.mu.Lock()
	if len(h.queue) >= webhookQueue {
		h.queue = slices.Delete(h.queue, 0, 1)
		h.dropped.Add(1)
		m.dropped.Inc()
	}
	h.queue = append(h.queue, d)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hook) pop() (delivery, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.queue) == 0 {
		return delivery{}, false
	}
	d := h.queue[0]
	h.queue = slices.Delete(h.queue, 0, 1)
	return d, true
}

// dispatch feeds every hook from the node's events until the Server
// closes. If the subscription ends (the node closed, or this loop fell
// behind) it subscribes again after a pause.
func (wh *webhooks) dispatch() {
	s := wh.s
	for {
		sub := s.n.Subscribe()
		wh.pump(sub)
		sub.Close()
		t := time.NewTimer(time.Second)
		select {
		case <-s.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// pump renders each event once and queues it for the hooks that want it.
func (wh *webhooks) pump(sub *node.Subscription) {
	s := wh.s
	for {
		var ev node.Event
		var ok bool
		select {
		case <-s.done:
			return
		case ev, ok = <-sub.C:
			if !ok {
				return
			}
		}
		wh.mu.Lock()
		var targets []*hook
		for _, h := range wh.hooks {
			if h.wants(string(ev.Kind)) {
				targets = append(targets, h)
			}
		}
		wh.mu.Unlock()
		if len(targets) == 0 {
			continue
		}
		body, err := json.Marshal(eventView(ev))
		if err != nil {
			s.log.Error("webhook: encode event", "kind", ev.Kind, "err", err)
			continue
		}
		for _, h := range targets {
			h.enqueue(delivery{id: randomHex(16), kind: string(ev.Kind), body: body}, s.metrics)
		}
	}
}

// work delivers a hook's queue until the hook is deleted or the Server
// closes.
func (wh *webhooks) work(h *hook) {
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.wake:
		}
		for {
			d, ok := h.pop()
			if !ok {
				break
			}
			wh.deliver(h, d)
			if h.ctx.Err() != nil {
				return
			}
		}
	}
}

// deliver posts d with retries.
func (wh *webhooks) deliver(h *hook, d delivery) {
	s := wh.s
	wait := s.cfg.WebhookBackoff
	for attempt := 1; ; attempt++ {
		permanent, err := wh.post(h, d)
		if err == nil {
			s.metrics.attempts.WithLabelValues("ok").Inc()
			s.metrics.deliveries.WithLabelValues("delivered").Inc()
			h.delivered.Add(1)
			return
		}
		s.metrics.attempts.WithLabelValues("error").Inc()
		h.mu.Lock()
		h.lastError = fmt.Sprintf("%s: %v", time.Now().UTC().Format(time.RFC3339), err)
		h.mu.Unlock()
		if h.ctx.Err() != nil {
			return // deleted or closing: not the receiver's failure
		}
		if permanent || attempt == webhookAttempts {
			s.metrics.deliveries.WithLabelValues("failed").Inc()
			h.failed.Add(1)
			s.log.Warn("webhook delivery failed", "webhook", h.ID, "url", redactURL(h.URL), "event", d.kind, "delivery", d.id, "attempts", attempt, "err", err)
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-h.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait *= 2
	}
}

// post makes one attempt. permanent reports an answer retrying cannot
// change.
func (wh *webhooks) post(h *hook, d delivery) (permanent bool, err error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.URL, bytes.NewReader(d.body))
	if err != nil {
		return true, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "intentcast/"+wh.s.cfg.Version)
	req.Header.Set("X-Intentcast-Event", d.kind)
	req.Header.Set("X-Intentcast-Delivery", d.id)
	req.Header.Set("X-Intentcast-Timestamp", ts)
	req.Header.Set("X-Intentcast-Signature", "sha256="+client.Sign(h.Secret, ts, d.body))
	// Never follow a redirect: the receiver could bounce the signed POST
	// to any URL this host can reach (the local API included).
	client := *wh.s.cfg.WebhookClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return false, fmt.Errorf("receiver answered %s", resp.Status)
	case c >= 300 && c < 400:
		return true, fmt.Errorf("receiver answered %s (to %q); webhooks do not follow redirects: register the final URL", resp.Status, redactURL(resp.Header.Get("Location")))
	default:
		return true, fmt.Errorf("receiver answered %s; not retried", resp.Status)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// redactURL hides a URL's password (listings and logs show it as xxxxx).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// checkWebhookURL accepts absolute http and https URLs.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook url %q must be an absolute http:// or https:// URL", raw)
	}
	return nil
}

// addWebhook serves POST /v1/webhooks.
func (s *Server) addWebhook(w http.ResponseWriter, r *http.Request) error {
	var req client.WebhookRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := checkWebhookURL(req.URL); err != nil {
		return badRequest(client.CodeBadURL, err)
	}
	events := []string{}
	for _, k := range req.Events {
		if !slices.Contains(eventKinds, k) {
			return errf(http.StatusBadRequest, client.CodeBadEvents, "event kind %q is not one of %s (or leave events empty for all)", k, strings.Join(eventKinds, ", "))
		}
		if !slices.Contains(events, k) {
			events = append(events, k)
		}
	}
	wh := s.hooks
	wh.mu.Lock()
	defer wh.mu.Unlock()
	switch {
	case wh.closed:
		return errf(http.StatusServiceUnavailable, client.CodeNodeClosed, "the API is shutting down")
	case len(wh.hooks) >= maxWebhooks:
		return errf(http.StatusConflict, client.CodeTooManyWebhooks, "this node already has %d webhooks, the most it feeds; delete one first", maxWebhooks)
	}
	h := wh.start(client.Webhook{ID: randomHex(8), URL: req.URL, Events: events, Secret: randomHex(32), Created: time.Now().UTC().Truncate(time.Second)})
	if err := wh.save(); err != nil {
		delete(wh.hooks, h.ID)
		h.cancel()
		return err
	}
	out := h.view()
	out.Secret = h.Secret // shown once
	w.Header().Set("Location", "/v1/webhooks/"+h.ID)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// listWebhooks serves GET /v1/webhooks (without secrets).
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	wh := s.hooks
	wh.mu.Lock()
	hooks := wh.sorted()
	wh.mu.Unlock()
	out := make([]client.Webhook, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.view())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteWebhook serves DELETE /v1/webhooks/{id}; pending deliveries are
// dropped.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	wh := s.hooks
	wh.mu.Lock()
	h, ok := wh.hooks[id]
	if !ok {
		wh.mu.Unlock()
		return errf(http.StatusNotFound, client.CodeUnknownWebhook, "no webhook %q; GET /v1/webhooks lists them", id)
	}
	delete(wh.hooks, id)
	err := wh.save()
	if err != nil {
		wh.hooks[id] = h
	}
	wh.mu.Unlock()
	if err != nil {
		return err
	}
	h.cancel()
	<-h.done
	w.WriteHeader(http.StatusNoContent)
	return nil
}
