package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestRatingsThroughTheAPI drives a deal, the vendor's profile, the
// customer's rating and the vendor's reply through the typed client on two
// real nodes; every refusal has its status and code, and the offer list
// carries the vendor's reputation.
func TestRatingsThroughTheAPI(t *testing.T) {
	customer, vendor := connected(t)
	ctx := t.Context()

	in, err := customer.c.PublishIntent(ctx, laptop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor's feed shows the intent", func() bool {
		feed, err := vendor.c.Feed(ctx)
		return err == nil && len(feed) == 1
	})
	offer, err := vendor.c.SendOffer(ctx, client.OfferRequest{IntentID: in.ID, Price: "999.00", Text: "ThinkPad X1"})
	if err != nil {
		t.Fatal(err)
	}
	// The profile once the offer came through: by then the nodes know each
	// other's subscriptions, the ratings topic's included, so the profile
	// goes by gossip, not by the next periodic sync (minutes away). Set
	// before, it could go out before either node knew the other was there.
	eventually(t, 15*time.Second, "the customer sees the offer", func() bool {
		offers, err := customer.c.Offers(ctx, in.ID)
		return err == nil && len(offers) == 1
	})
	prof, err := vendor.c.SetProfile(ctx, client.ProfileRequest{Name: "Acme Laptops", URL: "https://acme.example", Description: "Refurbished laptops"})
	if err != nil {
		t.Fatalf("SetProfile: %v", err)
	}
	if _, err := vendor.c.SetProfile(ctx, client.ProfileRequest{Name: "x", URL: "javascript:alert(1)"}); client.ErrorCode(err) != client.CodeBadURL {
		t.Errorf("a javascript: URL: %v, want %s", err, client.CodeBadURL)
	}
	var offers []client.OfferView
	eventually(t, 15*time.Second, "the customer sees the offer and the vendor's profile", func() bool {
		offers, err = customer.c.Offers(ctx, in.ID)
		return err == nil && len(offers) == 1 && offers[0].VendorReputation != nil && offers[0].VendorReputation.Profile != nil
	})
	if rep := offers[0].VendorReputation; rep.VendorKey != offers[0].Vendor.Key || rep.Count != 0 || rep.Profile.Name != "Acme Laptops" || rep.Profile.ID != prof.ID {
		t.Errorf("reputation on the offer before any rating: %+v", rep)
	}
	if _, err := customer.c.Rate(ctx, in.ID, client.RateRequest{Score: 5}); client.ErrorCode(err) != client.CodeNotFound {
		t.Errorf("rating before the deal: %v, want %s", err, client.CodeNotFound)
	}
	if _, err := customer.c.Accept(ctx, in.ID, offer.ID, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor has the deal", func() bool {
		deals, err := vendor.c.Deals(ctx)
		return err == nil && len(deals) == 1
	})

	for _, c := range []struct {
		req  client.RateRequest
		code string
	}{
		{client.RateRequest{Score: 0}, client.CodeBadScore},
		{client.RateRequest{Score: 6}, client.CodeBadScore},
		{client.RateRequest{Score: 3, Text: string(make([]byte, 513))}, client.CodeBadText},
	} {
		if _, err := customer.c.Rate(ctx, in.ID, c.req); client.ErrorCode(err) != c.code {
			t.Errorf("Rate(%+v): %v, want %s", c.req, err, c.code)
		}
	}
	if _, err := vendor.c.Rate(ctx, in.ID, client.RateRequest{Score: 5}); client.ErrorCode(err) != client.CodeNotYours {
		t.Errorf("the vendor rating its own deal: %v, want %s", err, client.CodeNotYours)
	}
	rated, err := customer.c.Rate(ctx, in.ID, client.RateRequest{Score: 4, Text: "Arrived on time"})
	if err != nil {
		t.Fatalf("Rate: %v", err)
	}
	if rated.Score != 4 || rated.IntentID != in.ID || rated.VendorKey != offers[0].Vendor.Key || rated.Price != "999.00" || !rated.Witnessed {
		t.Errorf("rating %+v", rated)
	}
	if _, err := customer.c.Rate(ctx, in.ID, client.RateRequest{Score: 1}); client.ErrorCode(err) != client.CodeRated {
		t.Errorf("a second rating: %v, want %s", err, client.CodeRated)
	}

	eventually(t, 15*time.Second, "the vendor holds the rating", func() bool {
		_, err := vendor.c.Rating(ctx, rated.ID)
		return err == nil
	})
	if _, err := customer.c.ReplyToRating(ctx, rated.ID, "I am the vendor"); client.ErrorCode(err) != client.CodeNotYours {
		t.Errorf("the customer replying: %v, want %s", err, client.CodeNotYours)
	}
	if _, err := vendor.c.ReplyToRating(ctx, rated.ID, ""); client.ErrorCode(err) != client.CodeBadText {
		t.Errorf("an empty reply: %v, want %s", err, client.CodeBadText)
	}
	replied, err := vendor.c.ReplyToRating(ctx, rated.ID, "Thank you!")
	if err != nil || replied.Reply == nil || replied.Reply.Text != "Thank you!" {
		t.Fatalf("ReplyToRating: %+v, %v", replied, err)
	}
	if _, err := vendor.c.ReplyToRating(ctx, rated.ID, "again"); client.ErrorCode(err) != client.CodeReplied {
		t.Errorf("a second reply: %v, want %s", err, client.CodeReplied)
	}

	eventually(t, 15*time.Second, "the customer's node counts the rating and the reply", func() bool {
		rep, err := customer.c.Reputation(ctx, rated.VendorKey)
		return err == nil && rep.Count == 1 && rep.Mean == 4 && rep.Replies == 1 && rep.Scores[3] == 1
	})
	list, err := customer.c.VendorRatings(ctx, rated.VendorKey)
	if err != nil || len(list) != 1 || list[0].ID != rated.ID || list[0].Reply == nil {
		t.Errorf("VendorRatings = %+v, %v", list, err)
	}
	if got, err := customer.c.DealRating(ctx, in.ID); err != nil || got.ID != rated.ID {
		t.Errorf("DealRating = %+v, %v", got, err)
	}
	self, err := vendor.c.Reputation(ctx, "self")
	if err != nil || self.VendorKey != rated.VendorKey || self.Count != 1 {
		t.Errorf("the vendor's own reputation: %+v, %v", self, err)
	}

	for _, c := range []struct {
		get    func() error
		status int
		code   string
	}{
		{func() error { _, err := customer.c.Reputation(ctx, "nothex"); return err }, http.StatusBadRequest, client.CodeBadVendorKey},
		{func() error { _, err := customer.c.Rating(ctx, in.ID); return err }, http.StatusNotFound, client.CodeNotFound},
		{func() error { _, err := customer.c.Rating(ctx, "xyz"); return err }, http.StatusBadRequest, client.CodeBadID},
	} {
		err := c.get()
		if e := asError(t, err); e.Status != c.status || e.Code != c.code {
			t.Errorf("%v: want %d %s", err, c.status, c.code)
		}
	}
}
