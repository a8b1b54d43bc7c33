package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// ReputationView is a vendor key's record as the node computed it from
// the ratings it verified itself (GET /v1/vendors/{key}/reputation, and
// vendor_reputation on every offer). docs/TRUST.md says what it is worth.
type ReputationView struct {
	VendorKey string  `json:"vendor_key"`
	Count     int     `json:"count"`
	Mean      float64 `json:"mean"`   // 0 when count is 0
	Scores    [5]int  `json:"scores"` // how many ratings gave 1, 2, 3, 4, 5
	// Recent is the ratings of the last 30 days.
	Recent TallyView `json:"recent"`
	// Witnessed is the ratings of deals whose intent this node saw on the
	// network: not staged offline.
	Witnessed TallyView    `json:"witnessed"`
	Replies   int          `json:"replies"`
	Profile   *ProfileView `json:"profile,omitempty"`
}

// TallyView is a count of ratings and their mean score.
type TallyView struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean"`
}

// ProfileView is a vendor's newest signed profile.
type ProfileView struct {
	ID          string    `json:"id"`
	VendorKey   string    `json:"vendor_key"`
	Name        string    `json:"name"`
	URL         string    `json:"url,omitempty"`
	Description string    `json:"description,omitempty"`
	Created     time.Time `json:"created"`
}

// RatingView is a rating the node verified, with what its deal record
// says and the vendor's reply if one came.
type RatingView struct {
	ID        string `json:"id"`
	IntentID  string `json:"intent_id"` // the rated deal's intent
	VendorKey string `json:"vendor_key"`
	Score     int    `json:"score"`
	Text      string `json:"text,omitempty"`
	// The deal: the intent's category and the price the vendor offered.
	Category   string     `json:"category"`
	Price      string     `json:"price"`
	PriceMinor uint64     `json:"price_minor"`
	Currency   string     `json:"currency"`
	Created    time.Time  `json:"created"`
	Received   time.Time  `json:"received"`
	Witnessed  bool       `json:"witnessed"`
	Reply      *ReplyView `json:"reply,omitempty"`
}

// ReplyView is the rated vendor's reply to a rating.
type ReplyView struct {
	ID      string    `json:"id"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

// RateRequest is the body of POST /v1/deals/{id}/rating.
type RateRequest struct {
	Score int    `json:"score"` // 1..5
	Text  string `json:"text,omitempty"`
}

// ReplyRequest is the body of POST /v1/ratings/{id}/reply.
type ReplyRequest struct {
	Text string `json:"text"`
}

// ProfileRequest is the body of PUT /v1/vendors/self/profile.
type ProfileRequest struct {
	Name        string `json:"name"`
	URL         string `json:"url,omitempty"`
	Description string `json:"description,omitempty"`
}

// The error codes of ratings and profiles.
const (
	CodeBadScore     = "bad_score"      // 400: a score outside 1..5
	CodeBadVendorKey = "bad_vendor_key" // 400: not 64 hex digits
	CodeRated        = "already_rated"  // 409: one rating per deal
	CodeReplied      = "already_replied"
	CodeNotYours     = "not_yours" // 409: a deal this node was the vendor of, a rating of another vendor
)

// Reputation returns the node's record of a vendor key (64 hex digits, or
// "self" for this node's own).
func (c *Client) Reputation(ctx context.Context, vendorKey string) (ReputationView, error) {
	return get[ReputationView](ctx, c, "/v1/vendors/"+url.PathEscape(vendorKey)+"/reputation")
}

// VendorRatings lists the ratings of a vendor key the node holds, newest
// first.
func (c *Client) VendorRatings(ctx context.Context, vendorKey string) ([]RatingView, error) {
	return get[[]RatingView](ctx, c, "/v1/vendors/"+url.PathEscape(vendorKey)+"/ratings")
}

// Rate publishes this node's rating of the deal of one of its intents.
func (c *Client) Rate(ctx context.Context, intentID string, req RateRequest) (RatingView, error) {
	var v RatingView
	err := c.do(ctx, http.MethodPost, "/v1/deals/"+url.PathEscape(intentID)+"/rating", req, &v)
	return v, err
}

// DealRating returns the rating the node holds of a deal.
func (c *Client) DealRating(ctx context.Context, intentID string) (RatingView, error) {
	return get[RatingView](ctx, c, "/v1/deals/"+url.PathEscape(intentID)+"/rating")
}

// Rating returns a rating the node holds.
func (c *Client) Rating(ctx context.Context, ratingID string) (RatingView, error) {
	return get[RatingView](ctx, c, "/v1/ratings/"+url.PathEscape(ratingID))
}

// ReplyToRating publishes this node's reply, as the rated vendor, to a
// rating.
func (c *Client) ReplyToRating(ctx context.Context, ratingID, text string) (RatingView, error) {
	var v RatingView
	err := c.do(ctx, http.MethodPost, "/v1/ratings/"+url.PathEscape(ratingID)+"/reply", ReplyRequest{Text: text}, &v)
	return v, err
}

// SetProfile signs and publishes this node's vendor profile.
func (c *Client) SetProfile(ctx context.Context, req ProfileRequest) (ProfileView, error) {
	var v ProfileView
	err := c.do(ctx, http.MethodPut, "/v1/vendors/self/profile", req, &v)
	return v, err
}
