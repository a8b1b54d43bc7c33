package api

import (
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// Ratings, replies, vendor profiles and reputation (docs/API.md,
// "Ratings"). A node computes every reputation from the ratings it
// verified itself; the API only shows it.

// vendorKey parses the {key} of a /v1/vendors path: 64 hex digits, or
// "self" for this node's own vendor key.
func (s *Server) vendorKey(r *http.Request) ([]byte, error) {
	k := r.PathValue("key")
	if k == "self" {
		return s.n.VendorKey(), nil
	}
	b, err := hex.DecodeString(k)
	if err != nil || len(b) != 32 {
		return nil, errf(http.StatusBadRequest, client.CodeBadVendorKey, "vendor key %q is not 64 hex digits (as offers show it) or \"self\"", k)
	}
	return b, nil
}

// reputation serves GET /v1/vendors/{key}/reputation.
func (s *Server) reputation(w http.ResponseWriter, r *http.Request) error {
	key, err := s.vendorKey(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reputationView(s.n.Reputation(key)))
	return nil
}

// vendorRatings serves GET /v1/vendors/{key}/ratings: the newest 100.
func (s *Server) vendorRatings(w http.ResponseWriter, r *http.Request) error {
	key, err := s.vendorKey(r)
	if err != nil {
		return err
	}
	list, err := s.n.RatingsOf(r.Context(), key, 100)
	if err != nil {
		return err
	}
	out := make([]client.RatingView, 0, len(list))
	for _, rec := range list {
		out = append(out, ratingView(rec))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// rate serves POST /v1/deals/{id}/rating.
func (s *Server) rate(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	var req client.RateRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if req.Score < 1 || req.Score > intent.MaxScore {
		return errf(http.StatusBadRequest, client.CodeBadScore, "score %d: give 1 (worst) to %d (best)", req.Score, intent.MaxScore)
	}
	if err := checkText("text", req.Text, 0, intent.MaxRatingText); err != nil {
		return err
	}
	rec, err := s.n.Rate(r.Context(), id, uint(req.Score), req.Text)
	if isNotFound(err) {
		err = errf(http.StatusNotFound, client.CodeNotFound, "no deal for intent %s; intentcast deals lists them", id)
	}
	if err != nil {
		return ratingError(err)
	}
	writeJSON(w, http.StatusCreated, ratingView(rec))
	return nil
}

// dealRating serves GET /v1/deals/{id}/rating.
func (s *Server) dealRating(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	rec, err := s.n.RatingOf(r.Context(), id)
	if isNotFound(err) {
		err = errf(http.StatusNotFound, client.CodeNotFound, "this node holds no rating of the deal of intent %s", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ratingView(rec))
	return nil
}

// getRating serves GET /v1/ratings/{id}.
func (s *Server) getRating(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "rating id")
	if err != nil {
		return err
	}
	rec, err := s.n.Rating(r.Context(), id)
	if isNotFound(err) {
		err = errf(http.StatusNotFound, client.CodeNotFound, "this node holds no rating %s", id)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ratingView(rec))
	return nil
}

// replyToRating serves POST /v1/ratings/{id}/reply.
func (s *Server) replyToRating(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "rating id")
	if err != nil {
		return err
	}
	var req client.ReplyRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := checkText("text", req.Text, 1, intent.MaxReplyText); err != nil {
		return err
	}
	rec, err := s.n.ReplyToRating(r.Context(), id, req.Text)
	if isNotFound(err) {
		err = errf(http.StatusNotFound, client.CodeNotFound, "this node holds no rating %s", id)
	}
	if err != nil {
		return ratingError(err)
	}
	writeJSON(w, http.StatusCreated, ratingView(rec))
	return nil
}

// setProfile serves PUT /v1/vendors/self/profile (or the node's own key).
func (s *Server) setProfile(w http.ResponseWriter, r *http.Request) error {
	key, err := s.vendorKey(r)
	if err != nil {
		return err
	}
	if string(key) != string(s.n.VendorKey()) {
		return errf(http.StatusConflict, client.CodeNotYours, "vendor key %x is not this node's: a node signs only its own profile (use self)", key)
	}
	var req client.ProfileRequest
	if err := decode(r, &req, false); err != nil {
		return err
	}
	for _, c := range []struct {
		field, v string
		min, max int
	}{{"name", req.Name, 1, intent.MaxVendorName}, {"url", req.URL, 0, intent.MaxVendorURL}, {"description", req.Description, 0, intent.MaxProfileText}} {
		if err := checkText(c.field, c.v, c.min, c.max); err != nil {
			return err
		}
	}
	if req.URL != "" && !strings.HasPrefix(req.URL, "https://") && !strings.HasPrefix(req.URL, "http://") {
		return errf(http.StatusBadRequest, client.CodeBadURL, "url %q: give an https:// (or http://) address", req.URL)
	}
	v, err := s.n.SetProfile(r.Context(), intent.ProfileDraft{Name: req.Name, URL: req.URL, Description: req.Description, Created: time.Now()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, profileView(v))
	return nil
}

// checkText is a bad_text error for text outside min..max bytes or not
// UTF-8.
func checkText(field, v string, min, max int) error {
	if len(v) < min || len(v) > max || !utf8.ValidString(v) {
		return errf(http.StatusBadRequest, client.CodeBadText, "%s of %d bytes: give %d to %d bytes of UTF-8 text", field, len(v), min, max)
	}
	return nil
}

// ratingError names the rating API's refusals.
func ratingError(err error) error {
	switch {
	case errors.Is(err, node.ErrRated):
		return errf(http.StatusConflict, client.CodeRated, "%v: a deal has one rating", err)
	case errors.Is(err, node.ErrReplied):
		return errf(http.StatusConflict, client.CodeReplied, "%v: a rating has one reply", err)
	case errors.Is(err, node.ErrNotYourDeal):
		return errf(http.StatusConflict, client.CodeNotYours, "%v", err)
	}
	return err
}

// reputationView renders a reputation.
func reputationView(r node.Reputation) client.ReputationView {
	v := client.ReputationView{
		VendorKey: hex.EncodeToString(r.VendorKey), Count: r.Count, Mean: r.Mean, Scores: r.Scores,
		Recent:    client.TallyView{Count: r.Recent.Count, Mean: r.Recent.Mean},
		Witnessed: client.TallyView{Count: r.Witnessed.Count, Mean: r.Witnessed.Mean},
		Replies:   r.Replies,
	}
	if r.Profile != nil {
		p := profileView(r.Profile)
		v.Profile = &p
	}
	return v
}

func profileView(p *intent.SignedVendorProfile) client.ProfileView {
	b := &p.Body
	return client.ProfileView{ID: p.ID.String(), VendorKey: hex.EncodeToString(b.VendorKey), Name: b.Name, URL: b.URL,
		Description: b.Description, Created: p.CreatedAt().UTC()}
}

// ratingView renders a rating and what its deal record says.
func ratingView(rec node.RatingRecord) client.RatingView {
	r := rec.Rating
	o := &r.Deal.Offer.Body
	v := client.RatingView{
		ID: r.ID.String(), IntentID: r.IntentID().String(), VendorKey: hex.EncodeToString(r.VendorKey()),
		Score: int(r.Body.Score), Text: r.Body.Text, Category: r.Deal.Intent.Body.Category,
		Price: intent.FormatAmount(o.Price, o.Currency), PriceMinor: o.Price, Currency: o.Currency,
		Created: r.CreatedAt().UTC(), Received: rec.Received.UTC(), Witnessed: rec.Witnessed,
	}
	if rec.Reply != nil {
		v.Reply = &client.ReplyView{ID: rec.Reply.ID.String(), Text: rec.Reply.Body.Text, Created: time.Unix(rec.Reply.Body.Created, 0).UTC()}
	}
	return v
}

// withReputation adds the vendor's reputation to an opened offer's view.
func (s *Server) withReputation(v client.OfferView, o node.OfferRecord) client.OfferView {
	if o.Offer != nil {
		rep := reputationView(s.n.Reputation(o.Offer.Body.VendorKey))
		v.VendorReputation = &rep
	}
	return v
}
