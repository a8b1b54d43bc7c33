package client

// The kinds of EventView: what happened on the node. They are the node's
// event kinds (node.EventKind, whose strings the server passes on as they
// are; node/api's tests check the two lists agree) plus KindReplayEnd.
// Webhooks subscribe by these names to the kinds docs/API.md lists for them.
const (
	KindIntent        = "intent"         // a live intent matching the vendor filter arrived
	KindCancel        = "cancel"         // an intent was cancelled (ours or a live one)
	KindClosed        = "closed"         // another node's live intent closed: Status says how (accepted)
	KindOffer         = "offer"          // a sealed offer to one of our intents was opened
	KindOfferSent     = "offer-sent"     // we sent an offer
	KindAccept        = "accept"         // one of our offers was accepted: a vendor-side deal
	KindAccepted      = "accepted"       // we accepted an offer: a customer-side deal
	KindIntentPosted  = "intent-posted"  // we published an intent
	KindRating        = "rating"         // a rating was verified and kept (ours or anyone's)
	KindRatingReply   = "rating-reply"   // a vendor's reply to a rating held was kept
	KindVendorProfile = "vendor-profile" // a vendor's newer profile was kept
	KindThread        = "thread"         // a negotiation thread of ours has a new message, sent or received

	// KindReplayEnd marks the end of the replay of stored state on the
	// event stream; it is never a webhook delivery.
	KindReplayEnd = "replay-end"
)
