package api

import (
	"testing"

	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// TestEventKindsMatchNode: the server passes the node's event kinds on as
// they are (eventView), and clients compare them with client's Kind
// constants, so the two lists must agree name for name.
func TestEventKindsMatchNode(t *testing.T) {
	for nk, ck := range map[node.EventKind]string{
		node.EventIntent:        client.KindIntent,
		node.EventCancel:        client.KindCancel,
		node.EventClosed:        client.KindClosed,
		node.EventOffer:         client.KindOffer,
		node.EventOfferSent:     client.KindOfferSent,
		node.EventAccept:        client.KindAccept,
		node.EventAccepted:      client.KindAccepted,
		node.EventIntentPosted:  client.KindIntentPosted,
		node.EventRating:        client.KindRating,
		node.EventRatingReply:   client.KindRatingReply,
		node.EventVendorProfile: client.KindVendorProfile,
	} {
		if got := eventView(node.Event{Kind: nk}).Kind; got != ck {
			t.Errorf("the API shows node event %q as %q; client's constant is %q", nk, got, ck)
		}
	}
}
