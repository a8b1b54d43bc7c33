package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
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
			return bad(client.CodeBadCategory, "filter category %q is not one this node serves (%s)", c, strings.Join(served, ", "))
		}
	}
	if err := intent.CheckPathInput(f.Path); err != nil {
		return node.Filter{}, err
	}
	for i, r := range f.Regions {
		f.Regions[i] = strings.ToUpper(strings.TrimSpace(r))
		if f.Regions[i] == "" {
			return node.Filter{}, intent.FieldErrorf(intent.FieldRegion, "A region in the filter is empty; leave regions out to take any.")
		}
		if err := intent.CheckRegionInput(intent.FieldRegion, f.Regions[i]); err != nil {
			return node.Filter{}, err
		}
	}
	for i, c := range f.Currencies {
		f.Currencies[i] = strings.ToUpper(strings.TrimSpace(c))
		if err := intent.CheckCurrencyInput(f.Currencies[i]); err != nil {
			return node.Filter{}, err
		}
	}
	// One currency named twice ("eur", "EUR") is one: a minimum price
	// needs exactly one, and the stored filter lists each once.
	f.Regions, f.Currencies = distinct(f.Regions), distinct(f.Currencies)
	if err := intent.CheckMinPriceInput(f.MinPrice, f.Currencies); err != nil {
		return node.Filter{}, err
	}
	kw := f.Keywords[:0:0]
	for _, k := range f.Keywords {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if len(k) > maxKeywordLen || !utf8.ValidString(k) {
			return bad(client.CodeBadRequest, "filter keyword %q must be UTF-8 of at most %d bytes", k, maxKeywordLen)
		}
		kw = append(kw, k)
	}
	if len(kw) > maxKeywords {
		return bad(client.CodeBadRequest, "filter has %d keywords; at most %d", len(kw), maxKeywords)
	}
	f.Keywords = kw
	if len(kw) == 0 {
		f.Keywords = nil
	}
	return f, nil
}

// The filter's wire shape is client.Filter; it converts to and from
// node.Filter, field for field.

func (s *Server) getFilter(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, client.Filter(s.n.Filter()))
	return nil
}

func (s *Server) putFilter(w http.ResponseWriter, r *http.Request) error {
	var in client.Filter
	if err := decode(r, &in, false); err != nil {
		return err
	}
	f, err := checkFilter(node.Filter(in), s.n.Categories())
	if err != nil {
		return err
	}
	s.n.SetFilter(f)
	if err := s.saveFilter(f); err != nil {
		return fmt.Errorf("the filter applies, but it was not saved and ends with the daemon: %w", err)
	}
	writeJSON(w, http.StatusOK, client.Filter(s.n.Filter()))
	return nil
}

// feed serves GET /v1/vendor/feed: the live intents that pass the filter,
// oldest first, each with the count of offers this node sent to it. The
// node's own intents are left out.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	feed, err := s.n.Feed(r.Context())
	if err != nil {
		return err
	}
	out := make([]client.IntentView, 0, len(feed))
	now := time.Now()
	for _, in := range feed {
		out = append(out, recordView(in, now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// sendOffer serves POST /v1/vendor/offers.
func (s *Server) sendOffer(w http.ResponseWriter, r *http.Request) error {
	var req client.OfferRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	id, err := parseID(req.IntentID, "intent_id")
	if err != nil {
		return err
	}
	in, err := s.n.LiveIntent(id)
	if err != nil {
		if c, err := s.n.Closure(r.Context(), id); err == nil {
			return errf(http.StatusConflict, client.CodeIntentClosed, "intent %s is closed (%s): it takes no more offers", id, c.Kind)
		}
		return errf(http.StatusNotFound, client.CodeIntentNotLive, "intent %s is not live on this node: unknown or expired", id)
	}
	vendor, known := nodeVendor(s.n)
	d, err := req.Draft(in, vendor, known, time.Now())
	if err != nil {
		return err
	}
	sealed, err := s.n.SendOffer(r.Context(), id, d)
	if err != nil {
		return err
	}
	o, err := s.n.Offer(r.Context(), sealed.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/intents/"+id.String()+"/offers")
	writeJSON(w, http.StatusCreated, offerView(o))
	return nil
}

// sentOffers serves GET /v1/vendor/offers: every offer this node sent,
// oldest first; status valid means pending, accepted means a deal.
func (s *Server) sentOffers(w http.ResponseWriter, r *http.Request) error {
	offers, err := s.n.OffersByDirection(r.Context(), node.Sent)
	if err != nil {
		return err
	}
	out := make([]client.OfferView, 0, len(offers))
	for _, o := range offers {
		out = append(out, offerView(o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
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

// distinct is list without repeats, in first-seen order; nil stays nil.
func distinct(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
