package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/intentcast/intentcast/intent"
)

// Client is the typed client of the API; the CLI is built on it. Its
// methods return *Error for every answer that is not 2xx.
type Client struct {
	// HTTP sends the requests. New sets one without a timeout (event
	// streams and minting take as long as they take; use the context). Nil
	// means http.DefaultClient.
	HTTP *http.Client

	baseURL string
	token   string
}

// New returns a client of the API at baseURL (such as
// "http://127.0.0.1:7411") that sends token as its bearer token. Locate
// finds both for a daemon running on this machine.
func New(baseURL, token string) *Client {
	return &Client{HTTP: &http.Client{}, baseURL: strings.TrimRight(baseURL, "/"), token: token}
}

// Error is an error answer of the API.
type Error struct {
	Status  int    // HTTP status
	Code    string // stable code, such as "bad_price"
	Message string // what is wrong and what to do, for people
	Field   string // the request field at fault, such as "max_price", or ""
}

func (e *Error) Error() string { return e.Message + " (" + e.Code + ")" }

// ErrorCode returns the API error code in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// send makes a request and returns the response if it is 2xx; otherwise
// it returns the answer as *Error.
func (c *Client) send(ctx context.Context, method, path string, in any, accept string) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s %s: %w (is the intentcast daemon running at %s?)", method, path, err, c.baseURL)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, errorFromResponse(resp)
}

// errorFromResponse reads an error answer. One that is not the API's JSON
// (a proxy's, or another server on the port) still becomes an *Error.
func errorFromResponse(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
		return &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
	}
	snippet := strings.TrimSpace(string(b))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	return &Error{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode),
		Message: fmt.Sprintf("%s from %s %s, not an intentcast API answer: %q", resp.Status, resp.Request.Method, resp.Request.URL.Path, snippet)}
}

// do sends a JSON request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "application/json")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	err := c.do(ctx, http.MethodGet, path, nil, &v)
	return v, err
}

// Health reports whether the daemon answers; it needs no token.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/v1/health", nil, nil)
}

// Node describes the node.
func (c *Client) Node(ctx context.Context) (NodeInfo, error) {
	return get[NodeInfo](ctx, c, "/v1/node")
}

// Protocol returns the categories, terms and limits needed to compose an
// intent.
func (c *Client) Protocol(ctx context.Context) (ProtocolInfo, error) {
	return get[ProtocolInfo](ctx, c, "/v1/protocol")
}

// PublishIntent publishes an intent. Minting its proof of work takes a
// moment; if progress is not nil it is called as the search goes on (the
// request then uses the event stream). Cancelling ctx cancels the minting.
func (c *Client) PublishIntent(ctx context.Context, req PublishRequest, progress func(MintProgress)) (IntentView, error) {
	if progress == nil {
		var v IntentView
		err := c.do(ctx, http.MethodPost, "/v1/intents", req, &v)
		return v, err
	}
	resp, err := c.send(ctx, http.MethodPost, "/v1/intents", req, "text/event-stream")
	if err != nil {
		return IntentView{}, err
	}
	defer resp.Body.Close()
	if !isEventStream(resp) {
		var v IntentView // a server that does not stream answers with the intent
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			return IntentView{}, fmt.Errorf("publish intent: decode answer: %w", err)
		}
		return v, nil
	}
	var out IntentView
	var got bool
	err = readSSE(resp.Body, func(kind string, data []byte) error {
		switch kind {
		case "progress":
			var p MintProgress
			if err := json.Unmarshal(data, &p); err != nil {
				return fmt.Errorf("publish intent: bad progress event: %w", err)
			}
			progress(p)
		case "intent":
			if err := json.Unmarshal(data, &out); err != nil {
				return fmt.Errorf("publish intent: bad intent event: %w", err)
			}
			got = true
			return errStop
		case "error":
			var eb ErrorBody
			if err := json.Unmarshal(data, &eb); err != nil {
				return fmt.Errorf("publish intent: bad error event: %w", err)
			}
			return &Error{Status: eb.Error.Status, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
		}
		return nil
	})
	switch {
	case got:
		return out, nil
	case ctx.Err() != nil:
		return IntentView{}, ctx.Err()
	case err != nil:
		return IntentView{}, err
	}
	return IntentView{}, errors.New("publish intent: the daemon ended the stream before the intent was published")
}

// Intents lists this node's own intents, newest first.
func (c *Client) Intents(ctx context.Context) ([]IntentView, error) {
	return get[[]IntentView](ctx, c, "/v1/intents")
}

// Intent returns an own or live intent.
func (c *Client) Intent(ctx context.Context, id string) (IntentView, error) {
	return get[IntentView](ctx, c, "/v1/intents/"+url.PathEscape(id))
}

// CancelIntent cancels one of this node's open intents.
func (c *Client) CancelIntent(ctx context.Context, id string) (IntentView, error) {
	var v IntentView
	err := c.do(ctx, http.MethodPost, "/v1/intents/"+url.PathEscape(id)+"/cancel", nil, &v)
	return v, err
}

// Offers lists the offers for an intent: received ones (refused ones
// too, with their reason) for an own intent, sent ones otherwise.
func (c *Client) Offers(ctx context.Context, intentID string) ([]OfferView, error) {
	return get[[]OfferView](ctx, c, "/v1/intents/"+url.PathEscape(intentID)+"/offers")
}

// Accept accepts an offer to an own intent. details (contact, delivery
// address) are sealed to the vendor.
func (c *Client) Accept(ctx context.Context, intentID, offerID, details string) (DealView, error) {
	var v DealView
	err := c.do(ctx, http.MethodPost, "/v1/intents/"+url.PathEscape(intentID)+"/offers/"+url.PathEscape(offerID)+"/accept",
		AcceptRequest{Details: details}, &v)
	return v, err
}

// DealRecord exports the record of the deal of one intent: the bytes of a
// file `intentcast deal verify` (intent.VerifyDealRecord) checks offline.
func (c *Client) DealRecord(ctx context.Context, intentID string) ([]byte, error) {
	path := "/v1/deals/" + url.PathEscape(intentID) + "/record"
	resp, err := c.send(ctx, http.MethodGet, path, nil, ContentTypeDealRecord)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, intent.MaxDealRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read the record: %w", path, err)
	}
	if len(b) > intent.MaxDealRecordSize {
		return nil, fmt.Errorf("GET %s: %w: the record is over %d bytes", path, intent.ErrTooLarge, intent.MaxDealRecordSize)
	}
	return b, nil
}

// Deals lists the deals, newest first.
func (c *Client) Deals(ctx context.Context) ([]DealView, error) {
	return get[[]DealView](ctx, c, "/v1/deals")
}

// Filter returns the vendor filter.
func (c *Client) Filter(ctx context.Context) (Filter, error) {
	return get[Filter](ctx, c, "/v1/vendor/filter")
}

// SetFilter replaces the vendor filter and returns it as the node keeps
// it (codes upper-cased, keywords trimmed).
func (c *Client) SetFilter(ctx context.Context, f Filter) (Filter, error) {
	var out Filter
	err := c.do(ctx, http.MethodPut, "/v1/vendor/filter", f, &out)
	return out, err
}

// Feed lists the live intents that pass the vendor filter, oldest first.
func (c *Client) Feed(ctx context.Context) ([]IntentView, error) {
	return get[[]IntentView](ctx, c, "/v1/vendor/feed")
}

// SendOffer answers a live intent with an offer.
func (c *Client) SendOffer(ctx context.Context, req OfferRequest) (OfferView, error) {
	var v OfferView
	err := c.do(ctx, http.MethodPost, "/v1/vendor/offers", req, &v)
	return v, err
}

// SentOffers lists the offers this node sent, oldest first.
func (c *Client) SentOffers(ctx context.Context) ([]OfferView, error) {
	return get[[]OfferView](ctx, c, "/v1/vendor/offers")
}

// Events streams the node's events to fn: first the replay of what is
// stored, then an EventView with Kind "replay-end", then live events. It
// returns when ctx ends (ctx.Err()), fn returns an error (that error) or
// the daemon ends the stream (nil; reconnecting replays, so nothing is
// lost).
func (c *Client) Events(ctx context.Context, fn func(EventView) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/events", nil, "text/event-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !isEventStream(resp) {
		return fmt.Errorf("events: the daemon answered %s, not an event stream", resp.Header.Get("Content-Type"))
	}
	err = readSSE(resp.Body, func(kind string, data []byte) error {
		var ev EventView
		if err := json.Unmarshal(data, &ev); err != nil {
			return fmt.Errorf("events: bad %s event: %w", kind, err)
		}
		if ev.Kind == "" {
			ev.Kind = kind
		}
		return fn(ev)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// AddWebhook registers a webhook for the given event kinds (none means
// all). The returned Webhook holds the signing secret; it is shown only
// this once.
func (c *Client) AddWebhook(ctx context.Context, url string, events []string) (Webhook, error) {
	var w Webhook
	err := c.do(ctx, http.MethodPost, "/v1/webhooks", WebhookRequest{URL: url, Events: events}, &w)
	return w, err
}

// Webhooks lists the webhooks, without their secrets.
func (c *Client) Webhooks(ctx context.Context) ([]Webhook, error) {
	return get[[]Webhook](ctx, c, "/v1/webhooks")
}

// DeleteWebhook removes a webhook; its pending deliveries are dropped.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/webhooks/"+url.PathEscape(id), nil, nil)
}

// Network reports the node's reachability, addresses, relay and DHT state.
func (c *Client) Network(ctx context.Context) (NetworkStatus, error) {
	return get[NetworkStatus](ctx, c, "/v1/network")
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
