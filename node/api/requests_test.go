package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// Tests of the pure request checks: draftFrom, offerDraft, checkFilter,
// readSSE.

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
	ok := PublishRequest{Category: "electronics", Path: []string{"laptops"}, Text: "14-inch", MaxPrice: "1200.50", Currency: "eur", Region: "de"}

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
		edit func(*PublishRequest)
		code string
	}{
		{"category off the roster", func(r *PublishRequest) { r.Category = "gadgets" }, CodeBadCategory},
		{"category not served", func(r *PublishRequest) { r.Category = "home" }, CodeBadCategory},
		{"path upper case", func(r *PublishRequest) { r.Path = []string{"Laptops"} }, CodeBadPath},
		{"path too deep", func(r *PublishRequest) { r.Path = []string{"a", "b", "c", "d", "e"} }, CodeBadPath},
		{"text too long", func(r *PublishRequest) { r.Text = strings.Repeat("x", intent.MaxText+1) }, CodeBadText},
		{"quantity", func(r *PublishRequest) { r.Quantity = intent.MaxQuantity + 1 }, CodeBadQuantity},
		{"no currency", func(r *PublishRequest) { r.Currency = "" }, CodeBadCurrency},
		{"currency", func(r *PublishRequest) { r.Currency = "EURO" }, CodeBadCurrency},
		{"price not a number", func(r *PublishRequest) { r.MaxPrice = "abc" }, CodeBadPrice},
		{"no price", func(r *PublishRequest) { r.MaxPrice = "" }, CodeBadPrice},
		{"two prices", func(r *PublishRequest) { r.MaxPriceMinor = ptr(uint64(1)) }, CodeBadPrice},
		{"region", func(r *PublishRequest) { r.Region = "Germany" }, CodeBadRegion},
		{"deadline past", func(r *PublishRequest) { r.DeliverBy = "2026-02-28" }, CodeBadDeadline},
		{"deadline format", func(r *PublishRequest) { r.DeliverBy = "next week" }, CodeBadDeadline},
		{"expiry format", func(r *PublishRequest) { r.ExpiresIn = "soon" }, CodeBadExpiry},
		{"expiry negative", func(r *PublishRequest) { r.ExpiresIn = "-1h" }, CodeBadExpiry},
		{"expiry too long", func(r *PublishRequest) { r.ExpiresIn = "31d" }, CodeBadExpiry},
		{"unknown term", func(r *PublishRequest) { r.Terms = []string{"no-tracking", "be-nice"} }, CodeBadTerms},
		{"custom term key", func(r *PublishRequest) { r.CustomTerms = map[string]string{"": "x"} }, CodeBadTerms},
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

	d, err := offerDraft(OfferRequest{Price: "999.99", ValidFor: "7d"}, in, vendor, true, now)
	if err != nil {
		t.Fatalf("offerDraft: %v", err)
	}
	if d.Price != 99999 || d.Currency != "EUR" || d.Vendor != vendor {
		t.Errorf("draft %+v", d)
	}
	if !d.ValidUntil.Equal(in.Body.ExpiresAt()) {
		t.Errorf("valid until %v; want capped at the intent's expiry %v", d.ValidUntil, in.Body.ExpiresAt())
	}
	if d, _ := offerDraft(OfferRequest{Price: "1", VendorName: "Other"}, in, vendor, true, now); d.Vendor.Name != "Other" || !d.ValidUntil.IsZero() {
		t.Errorf("vendor_name and no valid_for: %+v", d)
	}
	if d, err := offerDraft(OfferRequest{Price: "1"}, in, intent.Vendor{}, false, now); err != nil || d.Vendor != (intent.Vendor{}) {
		t.Errorf("unknown node vendor: %+v, %v; want the zero vendor for the node to fill in", d, err)
	}

	tests := []struct {
		name string
		req  OfferRequest
		code string
	}{
		{"over the ceiling", OfferRequest{Price: "1000.01"}, CodeBadPrice},
		{"not a number", OfferRequest{Price: "abc"}, CodeBadPrice},
		{"no price", OfferRequest{}, CodeBadPrice},
		{"other currency", OfferRequest{Price: "1", Currency: "USD"}, CodeBadCurrency},
		{"valid_for", OfferRequest{Price: "1", ValidFor: "0s"}, CodeBadExpiry},
		{"valid_for too long", OfferRequest{Price: "1", ValidFor: "31d"}, CodeBadExpiry},
		{"vendor name too long", OfferRequest{Price: "1", VendorName: strings.Repeat("v", 65)}, CodeBadVendor},
		{"text", OfferRequest{Price: "1", Text: strings.Repeat("x", intent.MaxText+1)}, CodeBadText},
	}
	for _, tt := range tests {
		_, err := offerDraft(tt.req, in, vendor, true, now)
		if got := codeOf(err); got != tt.code {
			t.Errorf("%s: code %q (%v); want %q", tt.name, got, err, tt.code)
		}
	}
	if _, err := offerDraft(OfferRequest{Price: "1"}, in, intent.Vendor{}, true, now); codeOf(err) != CodeBadVendor {
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
		{node.Filter{Categories: []string{"travel"}}, CodeBadCategory},
		{node.Filter{Categories: []string{"nope"}}, CodeBadCategory},
		{node.Filter{Regions: []string{"Europe"}}, CodeBadRegion},
		{node.Filter{Currencies: []string{"€"}}, CodeBadCurrency},
		{node.Filter{Path: []string{"a b"}}, CodeBadPath},
		{node.Filter{Keywords: []string{strings.Repeat("k", 65)}}, CodeBadRequest},
	} {
		if _, err := checkFilter(tt.f, served); codeOf(err) != tt.code {
			t.Errorf("checkFilter(%+v) = %v; want %s", tt.f, err, tt.code)
		}
	}
}

func TestReadSSE(t *testing.T) {
	stream := "retry: 2000\n\n" +
		": ping\n\n" +
		"event: progress\ndata: {\"tries\":1}\n\n" +
		"data: line one\ndata: line two\n\n" +
		"event: intent\ndata:{\"id\":\"x\"}\n\n" +
		"event: unterminated\ndata: lost\n"
	type ev struct{ kind, data string }
	var got []ev
	err := readSSE(strings.NewReader(stream), func(kind string, data []byte) error {
		got = append(got, ev{kind, string(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ev{{"progress", `{"tries":1}`}, {"message", "line one\nline two"}, {"intent", `{"id":"x"}`}}
	if !slices.Equal(got, want) {
		t.Errorf("events %q; want %q", got, want)
	}

	// errStop ends the stream without an error; any other error is returned.
	n := 0
	if err := readSSE(strings.NewReader(stream), func(string, []byte) error { n++; return errStop }); err != nil || n != 1 {
		t.Errorf("errStop: %v after %d events", err, n)
	}
	boom := errors.New("boom")
	if err := readSSE(strings.NewReader(stream), func(string, []byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"kind":"accept"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := "1700000000"
	sig := "sha256=" + Sign("s3cret", ts, body)
	if err := VerifySignature("s3cret", ts, sig, body, 5*time.Minute, now); err != nil {
		t.Errorf("valid signature: %v", err)
	}
	for name, check := range map[string]func() error{
		"wrong secret":   func() error { return VerifySignature("other", ts, sig, body, 0, now) },
		"changed body":   func() error { return VerifySignature("s3cret", ts, sig, []byte(`{"kind":"offer"}`), 0, now) },
		"changed time":   func() error { return VerifySignature("s3cret", "1700000001", sig, body, 0, now) },
		"no prefix":      func() error { return VerifySignature("s3cret", ts, strings.TrimPrefix(sig, "sha256="), body, 0, now) },
		"stale":          func() error { return VerifySignature("s3cret", ts, sig, body, time.Minute, now.Add(time.Hour)) },
		"not hex at all": func() error { return VerifySignature("s3cret", ts, "sha256=zz", body, 0, now) },
	} {
		if check() == nil {
			t.Errorf("%s: verified", name)
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
	if body := decodeError(t, rec.Body.Bytes()); body.Code != CodeMethodNotAllowed {
		t.Errorf("PATCH: code %q", body.Code)
	}
}
