package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// Tests of the pure request checks: draftFrom, OfferRequest.Draft,
// checkFilter.

func ptr[T any](v T) *T { return &v }

// codeOf is the error code the API answers err with.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return errorFrom(err).Code
}

func TestDraftFrom(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	served := []string{"electronics"}
	ok := client.PublishRequest{Category: "electronics", Path: []string{"laptops"}, Text: "14-inch", MaxPrice: "1200.50", Currency: "eur", Region: "de"}

	d, err := draftFrom(ok, now, served)
	if err != nil {
		t.Fatalf("draftFrom: %v", err)
	}
	want := intent.Want{Quantity: 1, MaxPrice: 120050, Currency: "EUR", Region: "DE"}
	if d.Want != want {
		t.Errorf("want %+v; got %+v", want, d.Want)
	}
	if !d.Expires.Equal(now.Add(72 * time.Hour)) {
		t.Errorf("expires %v; want 72h after %v", d.Expires, now)
	}
	if !slices.Equal(d.Terms.IDs, intent.DefaultTerms().IDs) {
		t.Errorf("terms %v; want the default terms", d.Terms.IDs)
	}
	if d.Suite != 0 {
		t.Errorf("suite %v without post_quantum", d.Suite)
	}

	pq := ok
	pq.PostQuantum, pq.Terms, pq.ExpiresIn, pq.DeliverBy = true, []string{}, "7d", "2026-03-02"
	pq.MaxPrice, pq.MaxPriceMinor = "", ptr(uint64(99))
	d, err = draftFrom(pq, now, served)
	if err != nil {
		t.Fatalf("draftFrom: %v", err)
	}
	if d.Suite != crypto.SuiteXWing || len(d.Terms.IDs) != 0 || d.Want.MaxPrice != 99 || !d.Expires.Equal(now.Add(7*24*time.Hour)) {
		t.Errorf("post-quantum request gave suite %v, terms %v, price %d, expires %v", d.Suite, d.Terms.IDs, d.Want.MaxPrice, d.Expires)
	}
	if got := time.Unix(d.Want.DeliverBy, 0).UTC(); !got.Equal(time.Date(2026, 3, 2, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("deliver_by of a date is %v; want the end of that day", got)
	}

	tests := []struct {
		name string
		edit func(*client.PublishRequest)
		code string
	}{
		{"category off the roster", func(r *client.PublishRequest) { r.Category = "gadgets" }, client.CodeBadCategory},
		{"category not served", func(r *client.PublishRequest) { r.Category = "home" }, client.CodeBadCategory},
		{"path upper case", func(r *client.PublishRequest) { r.Path = []string{"Laptops"} }, client.CodeBadPath},
		{"path too deep", func(r *client.PublishRequest) { r.Path = []string{"a", "b", "c", "d", "e"} }, client.CodeBadPath},
		{"text too long", func(r *client.PublishRequest) { r.Text = strings.Repeat("x", intent.MaxText+1) }, client.CodeBadText},
		{"quantity", func(r *client.PublishRequest) { r.Quantity = intent.MaxQuantity + 1 }, client.CodeBadQuantity},
		{"no currency", func(r *client.PublishRequest) { r.Currency = "" }, client.CodeBadCurrency},
		{"currency", func(r *client.PublishRequest) { r.Currency = "EURO" }, client.CodeBadCurrency},
		{"price not a number", func(r *client.PublishRequest) { r.MaxPrice = "abc" }, client.CodeBadPrice},
		{"no price", func(r *client.PublishRequest) { r.MaxPrice = "" }, client.CodeBadPrice},
		{"two prices", func(r *client.PublishRequest) { r.MaxPriceMinor = ptr(uint64(1)) }, client.CodeBadPrice},
		{"region", func(r *client.PublishRequest) { r.Region = "Germany" }, client.CodeBadRegion},
		{"deadline past", func(r *client.PublishRequest) { r.DeliverBy = "2026-02-28" }, client.CodeBadDeadline},
		{"deadline format", func(r *client.PublishRequest) { r.DeliverBy = "next week" }, client.CodeBadDeadline},
		{"expiry format", func(r *client.PublishRequest) { r.ExpiresIn = "soon" }, client.CodeBadExpiry},
		{"expiry negative", func(r *client.PublishRequest) { r.ExpiresIn = "-1h" }, client.CodeBadExpiry},
		{"expiry too long", func(r *client.PublishRequest) { r.ExpiresIn = "31d" }, client.CodeBadExpiry},
		{"unknown term", func(r *client.PublishRequest) { r.Terms = []string{"no-tracking", "be-nice"} }, client.CodeBadTerms},
		{"custom term key", func(r *client.PublishRequest) { r.CustomTerms = map[string]string{"": "x"} }, client.CodeBadTerms},
	}
	for _, tt := range tests {
		r := ok
		tt.edit(&r)
		_, err := draftFrom(r, now, served)
		if got := codeOf(err); got != tt.code {
			t.Errorf("%s: code %q (%v); want %q", tt.name, got, err, tt.code)
		}
	}
}

func TestOfferDraft(t *testing.T) {
	now := time.Now()
	in, _, err := intent.NewIntent(t.Context(), intent.Draft{
		Category: "electronics", Want: intent.Want{Quantity: 1, MaxPrice: 100000, Currency: "EUR"},
		Created: now, Expires: now.Add(time.Hour),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vendor := intent.Vendor{Name: "Acme", URL: "https://acme.example"}

	d, err := (client.OfferRequest{Price: "999.99", ValidFor: "7d"}).Draft(in, vendor, true, now)
	if err != nil {
		t.Fatalf("Draft: %v", err)
	}
	if d.Price != 99999 || d.Currency != "EUR" || d.Vendor != vendor {
		t.Errorf("draft %+v", d)
	}
	if !d.ValidUntil.Equal(in.Body.ExpiresAt()) {
		t.Errorf("valid until %v; want capped at the intent's expiry %v", d.ValidUntil, in.Body.ExpiresAt())
	}
	if d, _ := (client.OfferRequest{Price: "1", VendorName: "Other"}).Draft(in, vendor, true, now); d.Vendor.Name != "Other" || !d.ValidUntil.IsZero() {
		t.Errorf("vendor_name and no valid_for: %+v", d)
	}
	if d, err := (client.OfferRequest{Price: "1"}).Draft(in, intent.Vendor{}, false, now); err != nil || d.Vendor != (intent.Vendor{}) {
		t.Errorf("unknown node vendor: %+v, %v; want the zero vendor for the node to fill in", d, err)
	}

	tests := []struct {
		name string
		req  client.OfferRequest
		code string
	}{
		{"over the ceiling", client.OfferRequest{Price: "1000.01"}, client.CodeBadPrice},
		{"not a number", client.OfferRequest{Price: "abc"}, client.CodeBadPrice},
		{"no price", client.OfferRequest{}, client.CodeBadPrice},
		{"other currency", client.OfferRequest{Price: "1", Currency: "USD"}, client.CodeBadCurrency},
		{"valid_for", client.OfferRequest{Price: "1", ValidFor: "0s"}, client.CodeBadExpiry},
		{"valid_for too long", client.OfferRequest{Price: "1", ValidFor: "31d"}, client.CodeBadExpiry},
		{"vendor name too long", client.OfferRequest{Price: "1", VendorName: strings.Repeat("v", 65)}, client.CodeBadVendor},
		{"text", client.OfferRequest{Price: "1", Text: strings.Repeat("x", intent.MaxText+1)}, client.CodeBadText},
	}
	for _, tt := range tests {
		_, err := tt.req.Draft(in, vendor, true, now)
		if got := codeOf(err); got != tt.code {
			t.Errorf("%s: code %q (%v); want %q", tt.name, got, err, tt.code)
		}
	}
	if _, err := (client.OfferRequest{Price: "1"}).Draft(in, intent.Vendor{}, true, now); codeOf(err) != client.CodeBadVendor {
		t.Errorf("no vendor name anywhere: %v; want bad_vendor", err)
	}
}

func TestCheckFilter(t *testing.T) {
	served := []string{"electronics", "home"}
	f, err := checkFilter(node.Filter{Regions: []string{"de", "us-ca"}, Currencies: []string{"eur"}, Keywords: []string{" laptop ", ""}}, served)
	if err != nil {
		t.Fatalf("checkFilter: %v", err)
	}
	if !slices.Equal(f.Regions, []string{"DE", "US-CA"}) || !slices.Equal(f.Currencies, []string{"EUR"}) || !slices.Equal(f.Keywords, []string{"laptop"}) {
		t.Errorf("normalised filter %+v", f)
	}
	for _, tt := range []struct {
		f    node.Filter
		code string
	}{
		{node.Filter{Categories: []string{"travel"}}, client.CodeBadCategory},
		{node.Filter{Categories: []string{"nope"}}, client.CodeBadCategory},
		{node.Filter{Regions: []string{"Europe"}}, client.CodeBadRegion},
		{node.Filter{Currencies: []string{"€"}}, client.CodeBadCurrency},
		{node.Filter{Path: []string{"a b"}}, client.CodeBadPath},
		{node.Filter{Keywords: []string{strings.Repeat("k", 65)}}, client.CodeBadRequest},
	} {
		if _, err := checkFilter(tt.f, served); codeOf(err) != tt.code {
			t.Errorf("checkFilter(%+v) = %v; want %s", tt.f, err, tt.code)
		}
	}
}

func TestHookQueueDropsOldest(t *testing.T) {
	h := &hook{wake: make(chan struct{}, 1)}
	m := newAPIMetrics(prometheusRegistry())
	for i := range webhookQueue + 10 {
		h.enqueue(delivery{id: string(rune('a' + i%26)), body: []byte{byte(i)}}, m)
	}
	if got := h.dropped.Load(); got != 10 {
		t.Errorf("dropped %d; want 10", got)
	}
	d, ok := h.pop()
	if !ok || d.body[0] != 10 {
		t.Errorf("first in queue is #%v; want #10, the oldest kept", d.body)
	}
	if len(h.queue) != webhookQueue-1 {
		t.Errorf("queue holds %d after one pop; want %d", len(h.queue), webhookQueue-1)
	}
}

func TestMethodsAllow(t *testing.T) {
	rec := newRecorder()
	methods{"GET": nil, "POST": nil}.ServeHTTP(rec, mustRequest(t, http.MethodPatch, "/v1/intents"))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, POST" {
		t.Errorf("PATCH: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	if body := decodeError(t, rec.Body.Bytes()); body.Code != client.CodeMethodNotAllowed {
		t.Errorf("PATCH: code %q", body.Code)
	}
}
