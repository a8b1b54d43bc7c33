package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// The vendor's endpoints: the filter over the live intents of the node's
// categories, the feed it selects, and offers.

// Bounds on a filter's keywords: the filter is matched against every
// intent that arrives.
const (
	maxKeywords   = 64
	maxKeywordLen = 64
)

// checkFilter validates and normalises a filter (upper-case codes,
// trimmed keywords). served are the categories the node serves.
func checkFilter(f node.Filter, served []string) (node.Filter, error) {
	bad := func(code, format string, args ...any) (node.Filter, error) {
		return node.Filter{}, errf(http.StatusBadRequest, code, format, args...)
	}
	for _, c := range f.Categories {
		if intent.CheckCategory(c) != nil || !slices.Contains(served, c) {
			return bad(CodeBadCategory, "filter category %q is not one this node serves (%s)", c, strings.Join(served, ", "))
		}
	}
	if err := checkPath(f.Path); err != nil {
		return node.Filter{}, err
	}
	for i, r := range f.Regions {
		f.Regions[i] = strings.ToUpper(strings.TrimSpace(r))
		if r == "" || intent.CheckRegion(f.Regions[i]) != nil {
			return bad(CodeBadRegion, "filter region %q must be an ISO 3166 code such as DE or US-CA", r)
		}
	}
	for i, c := range f.Currencies {
		f.Currencies[i] = strings.ToUpper(strings.TrimSpace(c))
		if intent.CheckCurrency(f.Currencies[i]) != nil {
			return bad(CodeBadCurrency, "filter currency %q must be an ISO 4217 code such as EUR", c)
		}
	}
	kw := f.Keywords[:0:0]
	for _, k := range f.Keywords {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if len(k) > maxKeywordLen || !utf8.ValidString(k) {
			return bad(CodeBadRequest, "filter keyword %q must be UTF-8 of at most %d bytes", k, maxKeywordLen)
		}
		kw = append(kw, k)
	}
	if len(kw) > maxKeywords {
		return bad(CodeBadRequest, "filter has %d keywords; at most %d", len(kw), maxKeywords)
	}
	f.Keywords = kw
	if len(kw) == 0 {
		f.Keywords = nil
	}
	return f, nil
}

func (s *Server) getFilter(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.n.Filter())
}

func (s *Server) putFilter(w http.ResponseWriter, r *http.Request) {
	var f node.Filter
	if err := decode(r, &f, false); err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := checkFilter(f, s.n.Categories())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.n.SetFilter(f)
	writeJSON(w, http.StatusOK, s.n.Filter())
}

// feed serves GET /v1/vendor/feed: the live intents that pass the filter,
// oldest first, each with the count of offers this node sent to it. The
// node's own intents are left out.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	feed, err := s.n.Feed(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]IntentView, 0, len(feed))
	now := time.Now()
	for _, in := range feed {
		out = append(out, recordView(in, now))
	}
	writeJSON(w, http.StatusOK, out)
}

// offerDraft checks an offer request against the intent it answers. The
// customer's node would refuse an offer in another currency or over the
// ceiling, so those are errors here, before anything is signed.
func offerDraft(req OfferRequest, in *intent.SignedIntent, vendor intent.Vendor, vendorKnown bool, now time.Time) (intent.OfferDraft, error) {
	bad := func(code, format string, args ...any) (intent.OfferDraft, error) {
		return intent.OfferDraft{}, errf(http.StatusBadRequest, code, format, args...)
	}
	want := in.Body.Want
	currency := strings.ToUpper(strings.TrimSpace(req.Currency))
	if currency == "" {
		currency = want.Currency
	}
	if currency != want.Currency {
		return bad(CodeBadCurrency, "the customer asks for prices in %s; an offer in %q would be refused", want.Currency, req.Currency)
	}
	price, err := amount(req.Price, req.PriceMinor, currency, "price")
	if err != nil {
		return intent.OfferDraft{}, badRequest(CodeBadPrice, err)
	}
	if price > want.MaxPrice {
		return bad(CodeBadPrice, "price %s %s is over the customer's ceiling of %s %s; the customer's node would refuse it",
			FormatAmount(price, currency), currency, FormatAmount(want.MaxPrice, currency), currency)
	}
	if len(req.Text) > intent.MaxText || !utf8.ValidString(req.Text) {
		return bad(CodeBadText, "text must be valid UTF-8 of at most %d bytes; it has %d", intent.MaxText, len(req.Text))
	}
	d := intent.OfferDraft{Price: price, Currency: currency, Text: req.Text, Created: now}
	if req.ValidFor != "" {
		ttl, err := parseDuration(req.ValidFor)
		if err != nil || ttl <= 0 {
			return bad(CodeBadExpiry, "valid_for %q must be a positive duration such as 24h or 7d", req.ValidFor)
		}
		if ttl > intent.MaxOfferTTL {
			return bad(CodeBadExpiry, "valid_for %s is longer than the protocol allows (%s)", req.ValidFor, intent.MaxOfferTTL)
		}
		// An offer outliving its intent could never be accepted.
		d.ValidUntil = now.Add(ttl)
		if exp := in.Body.ExpiresAt(); exp.Before(d.ValidUntil) {
			d.ValidUntil = exp
		}
	}
	d.Vendor = intent.Vendor{Name: cmp.Or(req.VendorName, vendor.Name), URL: cmp.Or(req.VendorURL, vendor.URL)}
	switch {
	case d.Vendor.Name == "" && !vendorKnown:
		d.Vendor = intent.Vendor{} // the node signs with its configured vendor
	case d.Vendor.Name == "":
		return bad(CodeBadVendor, "no vendor name: pass vendor_name, or set the daemon's vendor name in its config")
	case len(d.Vendor.Name) > intent.MaxVendorName:
		return bad(CodeBadVendor, "vendor_name of %d bytes; at most %d", len(d.Vendor.Name), intent.MaxVendorName)
	case len(d.Vendor.URL) > intent.MaxVendorURL:
		return bad(CodeBadVendor, "vendor_url of %d bytes; at most %d", len(d.Vendor.URL), intent.MaxVendorURL)
	}
	return d, nil
}

// sendOffer serves POST /v1/vendor/offers.
func (s *Server) sendOffer(w http.ResponseWriter, r *http.Request) {
	var req OfferRequest
	if err := decode(r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	id, err := parseID(req.IntentID, "intent_id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in, err := s.n.LiveIntent(id)
	if err != nil {
		s.fail(w, r, errf(http.StatusNotFound, CodeIntentNotLive, "intent %s is not live on this node: unknown, expired or cancelled", id))
		return
	}
	vendor, known := nodeVendor(s.n)
	d, err := offerDraft(req, in, vendor, known, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sealed, err := s.n.SendOffer(r.Context(), id, d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.n.Offer(r.Context(), sealed.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/intents/"+id.String()+"/offers")
	writeJSON(w, http.StatusCreated, offerView(o))
}

// sentOffers serves GET /v1/vendor/offers: every offer this node sent,
// oldest first; status valid means pending, accepted means a deal.
func (s *Server) sentOffers(w http.ResponseWriter, r *http.Request) {
	offers, err := s.n.OffersByDirection(r.Context(), node.Sent)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]OfferView, 0, len(offers))
	for _, o := range offers {
		out = append(out, offerView(o))
	}
	writeJSON(w, http.StatusOK, out)
}

// nodeVendor returns the vendor profile the node signs offers with and
// true, if the node tells (node.Node.Vendor); otherwise false, and the
// node falls back to its configured one when an offer names none.
func nodeVendor(n *node.Node) (intent.Vendor, bool) {
	if v, ok := any(n).(interface{ Vendor() intent.Vendor }); ok {
		return v.Vendor(), true
	}
	return intent.Vendor{}, false
}
