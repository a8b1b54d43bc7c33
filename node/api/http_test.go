package api

import (
	"github.com/intentcast/intentcast/node/api/client"

	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestRequestErrors sends one bad request per case to a real node's API and
// checks the status and the stable code of the JSON error.
func TestRequestErrors(t *testing.T) {
	a := startAPI(t, nodeOpts{})
	unknown := strings.Repeat("ab", 32)
	valid := `{"category":"electronics","max_price":"100","currency":"EUR"}`
	past := time.Now().Add(-48 * time.Hour).Format(time.DateOnly)

	tests := []struct {
		name         string
		method, path string
		body         string
		header       map[string]string // replaces the defaults (token) when set
		status       int
		code         string
	}{
		{"wrong token", "GET", "/v1/intents", "", map[string]string{"Authorization": "Bearer nope"}, 401, client.CodeUnauthorized},
		{"no token", "GET", "/v1/intents", "", map[string]string{}, 401, client.CodeUnauthorized},
		{"basic auth", "GET", "/v1/intents", "", map[string]string{"Authorization": "Basic " + testToken}, 401, client.CodeUnauthorized},
		{"metrics need the token", "GET", "/metrics", "", map[string]string{}, 401, client.CodeUnauthorized},
		{"foreign origin", "GET", "/v1/intents", "", map[string]string{"Authorization": "Bearer " + testToken, "Origin": "https://evil.example"}, 403, client.CodeForbiddenOrigin},
		{"foreign origin, no token", "POST", "/v1/intents", valid, map[string]string{"Origin": "http://localhost:9999"}, 403, client.CodeForbiddenOrigin},
		{"cross-site fetch", "GET", "/v1/node", "", map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "cross-site"}, 403, client.CodeForbiddenOrigin},
		{"foreign host (DNS rebinding)", "GET", "/v1/health", "", map[string]string{"Host": "evil.example:80"}, 403, client.CodeForbiddenHost},
		{"unknown path", "GET", "/v1/nope", "", nil, 404, client.CodeNotFound},
		{"no web page", "GET", "/", "", nil, 404, client.CodeNotFound},
		{"method", "PATCH", "/v1/intents", "", nil, 405, client.CodeMethodNotAllowed},
		{"bad JSON", "POST", "/v1/intents", `{"category":`, nil, 400, client.CodeBadJSON},
		{"empty body", "POST", "/v1/intents", "", nil, 400, client.CodeBadJSON},
		{"unknown field", "POST", "/v1/intents", `{"category":"electronics","max_prize":"1"}`, nil, 400, client.CodeBadJSON},
		{"wrong type", "POST", "/v1/intents", `{"category":"electronics","quantity":"two"}`, nil, 400, client.CodeBadJSON},
		{"two values", "POST", "/v1/intents", valid + valid, nil, 400, client.CodeBadJSON},
		{"body too large", "POST", "/v1/intents", `{"text":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, client.CodeBodyTooLarge},
		{"bad category", "POST", "/v1/intents", `{"category":"gadgets","text":"a laptop","max_price":"1","currency":"EUR"}`, nil, 400, client.CodeBadCategory},
		{"category not served", "POST", "/v1/intents", `{"category":"travel","text":"a laptop","max_price":"1","currency":"EUR"}`, nil, 400, client.CodeBadCategory},
		{"price not a number", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":"abc","currency":"EUR"}`, nil, 400, client.CodeBadPrice},
		{"price as a JSON number", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":12,"currency":"EUR"}`, nil, 400, client.CodeBadJSON},
		{"bad currency", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":"1","currency":"EURO"}`, nil, 400, client.CodeBadCurrency},
		{"bad region", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":"1","currency":"EUR","region":"Germany"}`, nil, 400, client.CodeBadRegion},
		{"deadline in the past", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":"1","currency":"EUR","deliver_by":"` + past + `"}`, nil, 400, client.CodeBadDeadline},
		{"bad expiry", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":"1","currency":"EUR","expires_in":"90d"}`, nil, 400, client.CodeBadExpiry},
		{"bad terms", "POST", "/v1/intents", `{"category":"electronics","text":"a laptop","max_price":"1","currency":"EUR","terms":["be-nice"]}`, nil, 400, client.CodeBadTerms},
		{"malformed id", "GET", "/v1/intents/xyz", "", nil, 400, client.CodeBadID},
		{"unknown intent", "GET", "/v1/intents/" + unknown, "", nil, 404, client.CodeUnknownIntent},
		{"cancel unknown intent", "POST", "/v1/intents/" + unknown + "/cancel", "", nil, 404, client.CodeUnknownIntent},
		{"delete unknown intent", "DELETE", "/v1/intents/" + unknown, "", nil, 404, client.CodeUnknownIntent},
		{"offers of unknown intent", "GET", "/v1/intents/" + unknown + "/offers", "", nil, 404, client.CodeUnknownIntent},
		{"accept for unknown intent", "POST", "/v1/intents/" + unknown + "/offers/" + unknown + "/accept", "", nil, 404, client.CodeUnknownIntent},
		{"accept malformed offer id", "POST", "/v1/intents/" + unknown + "/offers/12/accept", "", nil, 400, client.CodeBadID},
		{"unknown deal", "GET", "/v1/deals/" + unknown, "", nil, 404, client.CodeNotFound},
		{"record of an unknown deal", "GET", "/v1/deals/" + unknown + "/record", "", nil, 404, client.CodeNotFound},
		{"record of a malformed id", "GET", "/v1/deals/12/record", "", nil, 400, client.CodeBadID},
		{"record is read-only", "POST", "/v1/deals/" + unknown + "/record", "", nil, 405, client.CodeMethodNotAllowed},
		{"offer to unknown intent", "POST", "/v1/vendor/offers", `{"intent_id":"` + unknown + `","price":"1"}`, nil, 404, client.CodeIntentNotLive},
		{"offer with malformed id", "POST", "/v1/vendor/offers", `{"intent_id":"nope","price":"1"}`, nil, 400, client.CodeBadID},
		{"filter category", "PUT", "/v1/vendor/filter", `{"categories":["travel"]}`, nil, 400, client.CodeBadCategory},
		{"filter region", "PUT", "/v1/vendor/filter", `{"regions":["Europe"]}`, nil, 400, client.CodeBadRegion},
		{"webhook url", "POST", "/v1/webhooks", `{"url":"ftp://example.com/hook"}`, nil, 400, client.CodeBadURL},
		{"webhook events", "POST", "/v1/webhooks", `{"url":"http://127.0.0.1:1/hook","events":["everything"]}`, nil, 400, client.CodeBadEvents},
		{"unknown webhook", "DELETE", "/v1/webhooks/nope", "", nil, 404, client.CodeUnknownWebhook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, a.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			header := tt.header
			if header == nil {
				header = map[string]string{"Authorization": "Bearer " + testToken}
			}
			for k, v := range header {
				if k == "Host" {
					req.Host = v
					continue
				}
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			e := decodeError(t, body)
			if resp.StatusCode != tt.status || e.Code != tt.code {
				t.Errorf("%s %s: %d %s (%s); want %d %s", tt.method, tt.path, resp.StatusCode, e.Code, e.Message, tt.status, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q", ct)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("CORS header on an error")
			}
			if tt.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
}

// TestAccessAllowed checks what the guard lets through.
func TestAccessAllowed(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<h1>intentcast</h1>") })
	a := startAPI(t, nodeOpts{server: func(c *ServerConfig) { c.Web = web; c.AllowedHosts = []string{"intentcast.local"} }})
	get := func(path string, header map[string]string, host string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", a.url+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	auth := map[string]string{"Authorization": "Bearer " + testToken}

	if resp, body := get("/v1/health", nil, ""); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"ok":true}` {
		t.Errorf("health without a token: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "intentcast") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("web page without a token: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	link := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
	if resp, body := get("/", link, ""); resp.StatusCode != 200 {
		t.Errorf("a link from another site to the page: %d %s", resp.StatusCode, body)
	}
	link["Authorization"] = "Bearer " + testToken
	if resp, _ := get("/v1/intents", link, ""); resp.StatusCode != 403 {
		t.Errorf("a cross-site navigation to the API: %d; want 403", resp.StatusCode)
	}
	link["Sec-Fetch-Dest"] = "iframe"
	if resp, _ := get("/", link, ""); resp.StatusCode != 403 {
		t.Errorf("another site framing the page: %d; want 403", resp.StatusCode)
	}
	hostPort := strings.TrimPrefix(a.url, "http://")
	sameOrigin := map[string]string{"Authorization": "Bearer " + testToken, "Origin": a.url, "Sec-Fetch-Site": "same-origin"}
	if resp, body := get("/v1/node", sameOrigin, ""); resp.StatusCode != 200 {
		t.Errorf("same-origin request: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/v1/node", auth, "localhost:"+strings.Split(hostPort, ":")[1]); resp.StatusCode != 200 {
		t.Errorf("Host localhost: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("/v1/node", auth, "intentcast.local"); resp.StatusCode != 200 {
		t.Errorf("allowed host: %d %s", resp.StatusCode, body)
	}
	resp, body := get("/metrics", auth, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "intentcast_api_requests_total") || !strings.Contains(body, `route="/v1/node"`) || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics: %d, body lacks the API's request counter or the Go collector:\n%.600s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `intentcast_api_requests_total{code="200",route="/v1/node"} 3`) {
		t.Errorf("metrics do not count requests by route and code:\n%.600s", body)
	}

	info, err := a.c.Node(t.Context())
	if err != nil || info.PeerID != a.n.ID().String() || len(info.Addrs) == 0 || info.MinWork != 4 || info.Version != "test" ||
		len(info.Categories) != 1 || len(info.Vendor.Key) != 64 {
		t.Errorf("Node = %+v, %v", info, err)
	}
	proto, err := a.c.Protocol(t.Context())
	if err != nil || len(proto.Terms) == 0 || len(proto.Categories) < 10 || len(proto.Served) != 1 || len(proto.DefaultTerms) != 3 || proto.Limits.MaxText == 0 {
		t.Errorf("Protocol = %+v, %v", proto, err)
	}
	if err := client.New(a.url, "").Health(t.Context()); err != nil {
		t.Errorf("Health without a token: %v", err)
	}
	_, err = client.New(a.url, "wrong").Intents(t.Context())
	if e := asError(t, err); e.Status != 401 || e.Code != client.CodeUnauthorized {
		t.Errorf("client with a wrong token: %+v", e)
	}
}

// TestFilter sets the vendor filter and sees the feed follow it.
func TestFilter(t *testing.T) {
	customer, vendor := connected(t)
	ctx := t.Context()
	f, err := vendor.c.Filter(ctx)
	if err != nil || len(f.Categories)+len(f.Regions)+len(f.Keywords) != 0 {
		t.Fatalf("Filter = %+v, %v; want the zero filter", f, err)
	}
	in, err := customer.c.PublishIntent(ctx, laptop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the feed shows the intent", func() bool {
		feed, _ := vendor.c.Feed(ctx)
		return len(feed) == 1 && feed[0].ID == in.ID
	})
	f.Regions, f.Keywords = []string{"fr"}, []string{" laptop "}
	set, err := vendor.c.SetFilter(ctx, f)
	if err != nil || set.Regions[0] != "FR" || set.Keywords[0] != "laptop" {
		t.Fatalf("SetFilter = %+v, %v", set, err)
	}
	if feed, err := vendor.c.Feed(ctx); err != nil || len(feed) != 0 {
		t.Errorf("feed with a filter for FR: %+v, %v; want empty", feed, err)
	}
	set.Regions = []string{"DE"}
	if _, err := vendor.c.SetFilter(ctx, set); err != nil {
		t.Fatal(err)
	}
	if feed, err := vendor.c.Feed(ctx); err != nil || len(feed) != 1 {
		t.Errorf("feed with a filter for DE: %+v, %v; want the intent", feed, err)
	}
}

// TestPublishCancelledByClient checks that a client that goes away stops
// the minting: the handler returns and no intent is stored.
func TestPublishCancelledByClient(t *testing.T) {
	a := startAPI(t, nodeOpts{minWork: 30}) // minutes of minting: only the cancel ends it
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var last client.MintProgress
	_, err := a.c.PublishIntent(ctx, laptop(), func(p client.MintProgress) {
		last = p
		if p.Tries > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PublishIntent = %v; want context.Canceled", err)
	}
	if last.Expected != 1<<30 || last.Tries == 0 {
		t.Errorf("last progress %+v; want tries under way of 2^30 expected", last)
	}
	done := a.srv.metrics.requests.WithLabelValues("/v1/intents", "200")
	eventually(t, 10*time.Second, "the publish handler returns", func() bool {
		var m dto.Metric
		return done.Write(&m) == nil && m.GetCounter().GetValue() == 1
	})
	if list, err := a.c.Intents(t.Context()); err != nil || len(list) != 0 {
		t.Errorf("Intents after a cancelled publish = %+v, %v; want none", list, err)
	}
}
