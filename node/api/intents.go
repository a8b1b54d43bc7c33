package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// The customer's endpoints: publish, list, show and cancel intents, list
// their offers and accept one.

// maxDetails bounds an accept's details: the protocol's bound is on the
// sealed details, which carry an X25519 HPKE overhead of 48 bytes.
const maxDetails = intent.MaxAcceptDetail - 64

// draftFrom is req.Draft, on a node that serves the categories served.
func draftFrom(req client.PublishRequest, now time.Time, served []string) (intent.Draft, error) {
	d, err := req.Draft(now)
	if err != nil {
		return intent.Draft{}, err
	}
	if !slices.Contains(served, req.Category) {
		return intent.Draft{}, intent.FieldErrorf(intent.FieldCategory, "This node does not serve %s (it serves %s); add it to the daemon's categories to publish there.", req.Category, strings.Join(served, ", "))
	}
	return d, nil
}

// publishIntent serves POST /v1/intents. With "Accept: text/event-stream"
// it streams the minting's progress (see events.go).
func (s *Server) publishIntent(w http.ResponseWriter, r *http.Request) error {
	var req client.PublishRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	d, err := draftFrom(req, time.Now(), s.n.Categories())
	if err != nil {
		return err
	}
	d.Work = s.n.Policy().MinWorkFor(d.Category)
	if wantsStream(r) {
		s.publishStream(w, r, d)
		return nil
	}
	in, err := s.n.Publish(r.Context(), d, nil)
	if err != nil {
		return err
	}
	v, err := s.intentView(r.Context(), in.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/intents/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// publishStream publishes d while streaming "progress" events, then one
// "intent" or "error" event. Minting runs on a goroutine this handler
// owns and waits for; the request's context cancels it.
func (s *Server) publishStream(w http.ResponseWriter, r *http.Request, d intent.Draft) {
	expected := uint64(1) << max(d.Work, 0)
	type result struct {
		in  *intent.SignedIntent
		err error
	}
	tries := make(chan uint64, 1) // the latest count; older ones are dropped
	done := make(chan result, 1)
	go func() {
		in, err := s.n.Publish(r.Context(), d, func(n uint64) {
			// The only sender: after the drain there is room.
			select {
			case <-tries:
			default:
			}
			tries <- n
		})
		done <- result{in, err}
	}()
	sse := startSSE(w, r)
	_ = sse.event("progress", client.MintProgress{Tries: 0, Expected: expected})
	var last time.Time
	for {
		select {
		case n := <-tries:
			if time.Since(last) < progressInterval {
				continue
			}
			last = time.Now()
			_ = sse.event("progress", client.MintProgress{Tries: n, Expected: expected})
		case res := <-done:
			if res.err == nil {
				var v client.IntentView
				if v, res.err = s.intentView(r.Context(), res.in.ID); res.err == nil {
					_ = sse.event("intent", v)
					return
				}
			}
			e := errorFrom(res.err)
			if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
				s.log.Error("publish failed", "err", res.err)
			}
			_ = sse.event("error", client.ErrorBody{Error: client.ErrorDetail{Code: e.Code, Message: e.Message, Field: string(e.Field), Status: e.Status}})
			return
		}
	}
}

// progressInterval spaces progress events: the minter reports every few
// milliseconds, a person needs a few updates a second.
const progressInterval = 100 * time.Millisecond

func wantsStream(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

func (s *Server) listIntents(w http.ResponseWriter, r *http.Request) error {
	owns, err := s.n.OwnIntents(r.Context())
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]client.IntentView, 0, len(owns))
	for _, own := range owns {
		out = append(out, recordView(own, now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getIntent(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	v, err := s.intentView(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// cancelIntent serves POST /v1/intents/{id}/cancel and DELETE
// /v1/intents/{id}.
func (s *Server) cancelIntent(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	if err := s.n.Cancel(r.Context(), id); err != nil {
		return err
	}
	v, err := s.intentView(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// listOffers serves GET /v1/intents/{id}/offers: the offers received for
// an own intent (refused ones too, with their reason), or those this node
// sent to a live one.
func (s *Server) listOffers(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	offers, err := s.n.Offers(r.Context(), id)
	if isNotFound(err) {
		err = errf(http.StatusNotFound, client.CodeUnknownIntent, "intent %s is unknown to this node (not its own, not live, no offers)", id)
	}
	if err != nil {
		return err
	}
	out := make([]client.OfferView, 0, len(offers))
	for _, o := range offers {
		out = append(out, s.withReputation(offerView(o), o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// accept serves POST /v1/intents/{id}/offers/{offer}/accept.
func (s *Server) accept(w http.ResponseWriter, r *http.Request) error {
	intentID, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	offerID, err := parseID(r.PathValue("offer"), "offer id")
	if err != nil {
		return err
	}
	var req client.AcceptRequest
	if err := decode(r, &req, true); err != nil {
		return err
	}
	if len(req.Details) > maxDetails {
		return errf(http.StatusBadRequest, client.CodeBadDetails, "details of %d bytes; at most %d", len(req.Details), maxDetails)
	}
	// Name the offer problem precisely before the node says "not acceptable".
	if in, err := s.n.Intent(r.Context(), intentID); err != nil || !in.Own {
		return unknownOwn(intentID, err)
	}
	off, err := s.n.Offer(r.Context(), offerID)
	switch {
	case err != nil && isNotFound(err):
		return errf(http.StatusNotFound, client.CodeUnknownOffer, "offer %s is unknown to this node", offerID)
	case err != nil:
		return err
	case off.IntentID != intentID || off.Direction != node.Received:
		return errf(http.StatusNotFound, client.CodeUnknownOffer, "offer %s is not an offer received for intent %s", offerID, intentID)
	case off.Status == node.OfferRefused:
		return errf(http.StatusConflict, client.CodeOfferNotAcceptable, "offer %s was refused (%s); only valid offers can be accepted", offerID, off.Reason)
	}
	deal, err := s.n.Accept(r.Context(), intentID, offerID, []byte(req.Details))
	if err != nil && deal.IntentID.IsZero() {
		return err
	}
	if err != nil {
		// The deal is recorded, but this node's own check refused the
		// accept (409 refused): it never left, and accept_send says so.
		// An accept with no peer to take it is no error: it is queued.
		return fmt.Errorf("the deal is recorded, but the accept was not sent: %w", err)
	}
	writeJSON(w, http.StatusCreated, dealView(deal, time.Now()))
	return nil
}

func (s *Server) listDeals(w http.ResponseWriter, r *http.Request) error {
	deals, err := s.n.Deals(r.Context())
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]client.DealView, 0, len(deals))
	for _, d := range deals {
		out = append(out, dealView(d, now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getDeal(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	d, err := s.n.Deal(r.Context(), id)
	if err != nil {
		if isNotFound(err) {
			err = errf(http.StatusNotFound, client.CodeNotFound, "no deal for intent %s", id)
		}
		return err
	}
	writeJSON(w, http.StatusOK, dealView(d, time.Now()))
	return nil
}

// unknownOwn turns "not found" or "not own" on an own intent into
// unknown_intent.
func unknownOwn(id intent.ID, err error) error {
	if err == nil || isNotFound(err) {
		return errf(http.StatusNotFound, client.CodeUnknownIntent, "intent %s is not one of this node's own intents", id)
	}
	return err
}
