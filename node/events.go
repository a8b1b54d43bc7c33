package node

import (
	"sync"

	"github.com/intentcast/intentcast/intent"
)

// EventKind names what happened.
type EventKind string

// The events a node reports to its subscribers (the API's event stream).
const (
	EventIntent        EventKind = "intent"         // a live intent matching the vendor filter arrived
	EventCancel        EventKind = "cancel"         // an intent was cancelled (ours or a live one)
	EventClosed        EventKind = "closed"         // another node's live intent closed: Status says how (accepted)
	EventOffer         EventKind = "offer"          // a sealed offer to one of our intents was opened
	EventOfferSent     EventKind = "offer-sent"     // we sent an offer
	EventAccept        EventKind = "accept"         // one of our offers was accepted: a vendor-side deal
	EventAccepted      EventKind = "accepted"       // we accepted an offer: a customer-side deal
	EventIntentPosted  EventKind = "intent-posted"  // we published an intent
	EventRating        EventKind = "rating"         // a rating was verified and kept (ours or anyone's)
	EventRatingReply   EventKind = "rating-reply"   // a vendor's reply to a rating held was kept
	EventVendorProfile EventKind = "vendor-profile" // a vendor's newer profile was kept
	EventThread        EventKind = "thread"         // a negotiation thread of ours has a new message, sent or received
	EventSend          EventKind = "send"           // one of our own messages moved on: queued, sent, seen or refused (Send)
)

// Event is one thing that happened at this node. It carries the records it
// is about as they stand after it, so a subscriber never reads them back.
type Event struct {
	Kind     EventKind
	IntentID intent.ID
	OfferID  intent.ID // zero if the event is about no offer
	// Status and Reason tell a customer whether an offer met the terms.
	Status string
	Reason string
	Intent *IntentRecord // the intent the event is about
	Offer  *OfferRecord  // the offer, for offer, offer-sent, accept and accepted
	Deal   *DealRecord   // the deal, for accept and accepted
	// Rating is the rating (with its reply) of rating and rating-reply;
	// Profile the profile of vendor-profile.
	Rating  *RatingRecord
	Profile *intent.SignedVendorProfile
	Thread  *ThreadRecord // the thread after its new message, for thread
	Send    *SendRecord   // how far an own message got, for send
}

// eventBufferSize is how far a subscriber may fall behind before it is
// dropped. A dropped subscriber's channel is closed; it re-reads the store
// (the API's stream replays) instead of the node buffering without bound.
const eventBufferSize = 256

// broker fans events out to subscribers without ever blocking the node.
type broker struct {
	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

// Subscription is a live feed of events. C is closed when the subscriber
// fell too far behind, called Close, or the node closed.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	broker *broker
}

// Close ends the subscription. It is idempotent.
func (s *Subscription) Close() { s.broker.remove(s) }

func (b *broker) subscribe() *Subscription {
	c := make(chan Event, eventBufferSize)
	s := &Subscription{C: c, c: c, broker: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(c)
		return s
	}
	if b.subs == nil {
		b.subs = make(map[*Subscription]struct{})
	}
	b.subs[s] = struct{}{}
	return s
}

func (b *broker) remove(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.c)
	}
}

func (b *broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- e:
		default:
			delete(b.subs, s)
			close(s.c)
		}
	}
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.c)
	}
}
