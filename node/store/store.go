package store

import (
	"context"
	"time"
)

// ID is a SHA-256 message ID: an intent ID, an offer ID, or any other ID the
// replay index records.
type ID = [32]byte

// IntentState is where one of this node's own intents stands.
type IntentState string

// The states of an own intent.
const (
	IntentOpen      IntentState = "open"
	IntentCancelled IntentState = "cancelled"
	IntentAccepted  IntentState = "accepted"
)

// Valid reports whether s is one of the defined states. Stores refuse any
// other value with ErrInvalid: a misspelled state would never match a query.
func (s IntentState) Valid() bool {
	return s == IntentOpen || s == IntentCancelled || s == IntentAccepted
}

// OwnIntent is an intent this node published (customer role), with its private
// per-intent keys so that offers can still be opened, and accepts and cancels
// signed, after a restart.
type OwnIntent struct {
	ID          ID
	Category    string
	Raw         []byte // signed intent wire bytes
	SigningSeed []byte // 32-byte Ed25519 seed of the per-intent signing key
	ReplySuite  uint16 // HPKE suite of ReplyKey
	ReplyKey    []byte // HPKE private key bytes
	Created     time.Time
	Expires     time.Time
	State       IntentState
	CancelRaw   []byte // signed cancel, if cancelled
	// AcceptedOffer is the ID of the accepted offer; zero if none.
	AcceptedOffer ID
}

// LiveIntent is an intent seen on the network (any role), kept until it
// expires or is cancelled. Expires is the intent's own, which its ID
// hashes: one ID never comes with two expiries.
type LiveIntent struct {
	ID       ID
	Category string
	Raw      []byte
	Expires  time.Time
	Received time.Time
}

// Tombstone is a closed intent (cancelled, or fulfilled by an accept), kept
// until the intent's expiry so that the intent cannot come back by gossip or
// sync and the closure can be served to nodes that missed it.
type Tombstone struct {
	IntentID ID
	Category string
	Raw      []byte // the signed closure: a cancel or an accept, both signed by the intent's key
	// IntentRaw is the cancelled intent, kept so the cancel can be served
	// (by late-joiner sync) with what it must be checked against.
	IntentRaw []byte
	Expires   time.Time
}

// Outgoing is one of this node's own messages (an intent, a sealed offer,
// an accept or a cancel) and how far it got: the node's outbox. A message
// is queued in the same transaction as the state change that made it, so
// one made with no peer to send it to survives a restart and is sent when a
// peer appears.
type Outgoing struct {
	ID       ID // the message ID
	Kind     MessageKind
	IntentID ID
	OfferID  ID // the offer an offer or accept is, or names
	Category string
	Raw      []byte // wire bytes
	Status   SendStatus
	Peers    int    // how many peers it was handed to
	Reason   string // why it was refused
	// When it reached each status; zero for one it has not reached.
	Queued, Sent, Seen, Refused time.Time
	Expires                     time.Time // pruned after (its intent's expiry plus skew)
}

// MessageKind is the kind of an Outgoing message.
type MessageKind string

// The kinds of own messages.
const (
	MessageIntent MessageKind = "intent"
	MessageOffer  MessageKind = "offer"
	MessageAccept MessageKind = "accept"
	MessageCancel MessageKind = "cancel"
)

// Valid reports whether k is one of the kinds above.
func (k MessageKind) Valid() bool {
	switch k {
	case MessageIntent, MessageOffer, MessageAccept, MessageCancel:
		return true
	}
	return false
}

// SendStatus is how far an own message got. It only moves forward:
// queued, then sent, then seen; or queued, then refused.
type SendStatus string

// The send statuses.
const (
	// SendQueued: stored, and no peer has it yet (the node had none on
	// the message's topic, or none took it yet).
	SendQueued SendStatus = "queued"
	// SendSent: handed to at least one peer (a stem successor took it, or
	// gossip wrote it to a peer's stream).
	SendSent SendStatus = "sent"
	// SendSeen: a peer showed it holds the message: a copy or an IHAVE of
	// it came back from the network.
	SendSeen SendStatus = "seen"
	// SendRefused: this node's own check refused it when it was to be
	// sent (the intent closed or expired meanwhile): it never left.
	SendRefused SendStatus = "refused"
)

// Valid reports whether s is one of the statuses above.
func (s SendStatus) Valid() bool {
	switch s {
	case SendQueued, SendSent, SendSeen, SendRefused:
		return true
	}
	return false
}

// RelayedOffer is a sealed offer this node relayed, kept (store-and-forward)
// so that late-joiner sync can hand it to the intent's customer if their
// node was offline when it passed. It is sealed: a relay can read nothing
// in it but the intent it answers.
type RelayedOffer struct {
	ID       ID // the offer ID
	IntentID ID
	Category string
	Raw      []byte // sealed wire bytes
	Expires  time.Time
	// Kept is when this node kept it: among kept offers of equal work the
	// older stays (node/relay.go). Zero for records from before it was
	// stored.
	Kept time.Time
}

// Direction says whether an offer came to this node or left it.
type Direction string

// The directions of an offer.
const (
	Received Direction = "received"
	Sent     Direction = "sent"
)

// Valid reports whether d is Received or Sent. Stores refuse any other value
// with ErrInvalid: such an offer would be invisible to OffersByDirection.
func (d Direction) Valid() bool { return d == Received || d == Sent }

// OfferStatus is what the customer's node made of an offer.
type OfferStatus string

// The statuses of an offer.
const (
	OfferValid    OfferStatus = "valid"
	OfferRefused  OfferStatus = "refused" // broke the customer's terms; kept as evidence
	OfferAccepted OfferStatus = "accepted"
	// OfferLapsed is an offer whose intent closed without it: another offer
	// was accepted, the intent was cancelled, or the offer came after that.
	OfferLapsed OfferStatus = "lapsed"
)

// Valid reports whether s is one of the defined statuses. Stores refuse any
// other value with ErrInvalid.
func (s OfferStatus) Valid() bool {
	return s == OfferValid || s == OfferRefused || s == OfferAccepted || s == OfferLapsed
}

// Offer is a sealed offer, received (customer role) or sent (vendor role).
type Offer struct {
	ID        ID // SHA-256 of the sealed wire message
	IntentID  ID
	Direction Direction
	Raw       []byte // sealed wire bytes
	// Inner is the opened vendor-signed offer (COSE bytes); for Sent, what we
	// sealed.
	Inner     []byte
	Status    OfferStatus
	Reason    string // why refused
	Received  time.Time
	AcceptRaw []byte // the signed accept, once accepted
}

// ThreadMessage is one message of a negotiation thread this node is a
// party to (docs/PROTOCOL.md, "Negotiation threads"): a counter or a
// vendor's reply, sent or received. A reply's revised offer is also kept as
// an Offer under the same ID, so it is accepted like any offer.
type ThreadMessage struct {
	ID        ID // the sealed thread message's ID
	IntentID  ID
	Root      ID // the offer ID of the thread's root offer: the thread's name here
	Seq       uint16
	Direction Direction
	Raw       []byte // the signed message (the plaintext)
	Sealed    []byte // the sealed wire bytes
	Received  time.Time
}

// Role is the side of a deal this node was on.
type Role string

// The roles in a deal.
const (
	RoleCustomer Role = "customer"
	RoleVendor   Role = "vendor"
)

// Valid reports whether r is RoleCustomer or RoleVendor. Stores refuse any
// other value with ErrInvalid.
func (r Role) Valid() bool { return r == RoleCustomer || r == RoleVendor }

// Deal is the matching record that both sides of an accepted offer keep.
type Deal struct {
	IntentID   ID
	OfferID    ID
	Role       Role
	IntentRaw  []byte
	OfferInner []byte
	AcceptRaw  []byte
	Closed     time.Time
}

// Store is the node's durable state. Every implementation must pass the
// conformance suite in package storetest, which pins down what the comments
// here say.
//
// Common rules:
//   - Every method but Close takes a context and returns its error (wrapped)
//     if it is already done; a store does not start work for a caller who left.
//   - Put methods insert or replace by the record's key, and reject enum
//     fields outside their defined values with ErrInvalid.
//   - Getters of one record return ErrNotFound if there is none.
//   - Times come back as the same instants (compare with time.Time.Equal; the
//     location and monotonic reading are not kept). Empty byte slices may
//     come back nil.
//   - A record with an expiry is expired once its expiry is before now:
//     queries taking now return records with expiry >= now, and Prune(now)
//     deletes those with expiry < now.
//   - Ties in time order are broken in an unspecified order.
//   - After Close every method returns ErrClosed; Close itself may be called
//     again and returns nil.
//   - Methods are safe for concurrent use.
type Store interface {
	// PutOwnIntent inserts or replaces one of this node's own intents.
	PutOwnIntent(ctx context.Context, in OwnIntent) error
	// OwnIntent returns the own intent with that ID.
	OwnIntent(ctx context.Context, id ID) (OwnIntent, error)
	// OwnIntents returns all own intents, newest Created first.
	OwnIntents(ctx context.Context) ([]OwnIntent, error)

	// PutLiveIntent inserts or replaces an intent seen on the network. It is
	// a no-op returning nil if a tombstone exists for the intent, so that a
	// cancelled intent cannot come back.
	PutLiveIntent(ctx context.Context, in LiveIntent) error
	// LiveIntents returns the live intents unexpired at now, oldest
	// Received first: what a node loads at start. From then on it answers
	// from memory (its live set), so the store looks up no live intent by
	// ID or category.
	LiveIntents(ctx context.Context, now time.Time) ([]LiveIntent, error)

	// Apply writes a batch in one transaction (see Batch): all of it or,
	// on error, none. Concurrent calls may share a transaction and its disk
	// sync (group commit), but each succeeds or fails for its own batch.
	Apply(ctx context.Context, b Batch) error
	// Queue is Apply in two halves: b joins the write queue before Queue
	// returns (no later Apply or Queue is written before it; reads that
	// lay queued batches over the stored records see it), and wait blocks
	// until it is durable (Bolt: in its journal; in the file with a later
	// transaction) and returns what Apply would. The caller must call
	// wait.
	Queue(ctx context.Context, b Batch) (wait func() error)
	// Behind is Queue without the journal: b joins the write queue before
	// Behind returns (reads that lay queued batches over the stored
	// records see it) and is durable only once a later transaction writes
	// it (Bolt: an Apply, or the checkpoint within four seconds); wait
	// blocks until then and returns what Apply would. For changes a crash
	// may lose because the node gets them back from its peers.
	Behind(ctx context.Context, b Batch) (wait func() error)

	// PutTombstone inserts or replaces a tombstone and, in the same atomic
	// step, deletes the live intent with that ID (and expiry: a
	// tombstone's Expires is its intent's).
	PutTombstone(ctx context.Context, t Tombstone) error
	// Tombstone returns the tombstone of that intent.
	Tombstone(ctx context.Context, intentID ID) (Tombstone, error)
	// Tombstones returns the unexpired tombstones of a category (all
	// categories if category is ""), soonest Expires first.
	Tombstones(ctx context.Context, category string, now time.Time) ([]Tombstone, error)

	// RelayedOffers returns the unexpired relayed offers of a category (all
	// categories if category is ""), soonest Expires first. They are
	// written by Apply.
	RelayedOffers(ctx context.Context, category string, now time.Time) ([]RelayedOffer, error)

	// Outbox returns this node's own messages with how far they got,
	// unexpired or not yet pruned, soonest Expires first. They are written
	// by Apply.
	Outbox(ctx context.Context) ([]Outgoing, error)

	// PutOffer inserts or replaces an offer by its ID.
	PutOffer(ctx context.Context, o Offer) error
	// Offer returns the offer with that ID.
	Offer(ctx context.Context, id ID) (Offer, error)
	// Offers returns the offers for an intent, oldest Received first.
	Offers(ctx context.Context, intentID ID) ([]Offer, error)
	// OffersByDirection returns the offers received or sent, oldest Received
	// first.
	OffersByDirection(ctx context.Context, d Direction) ([]Offer, error)

	// ThreadMessage returns the thread message with that (sealed) ID.
	ThreadMessage(ctx context.Context, id ID) (ThreadMessage, error)
	// ThreadMessages returns the thread messages of an intent, ordered by
	// Root and then Seq. They are written by Apply.
	ThreadMessages(ctx context.Context, intentID ID) ([]ThreadMessage, error)

	// PutDeal inserts or replaces the deal for an intent.
	PutDeal(ctx context.Context, d Deal) error
	// Deal returns the deal for an intent.
	Deal(ctx context.Context, intentID ID) (Deal, error)
	// Deals returns all deals, newest Closed first.
	Deals(ctx context.Context) ([]Deal, error)

	// PutRating keeps a rating unless one of the same intent with a lower
	// or equal ID is held; it replaces (with its reply) one with a higher
	// ID. If r is kept, the ratings evict names go in the same write (an
	// ID not held is no error): the node's bounds evict. It reports whether
	// r was kept. Ratings do not expire.
	PutRating(ctx context.Context, r Rating, evict ...ID) (kept bool, err error)
	// PutRatingReply keeps a reply to a held rating unless the rating has
	// one with a lower or equal ID; ErrNotFound if the rating is not held.
	PutRatingReply(ctx context.Context, ratingID, replyID ID, replyRaw []byte) (kept bool, err error)
	// Rating returns the rating with that ID, with its reply if any.
	Rating(ctx context.Context, id ID) (Rating, error)
	// Ratings returns the ratings of a category's intents (all if
	// category is ""), by ascending ID within a category.
	Ratings(ctx context.Context, category string) ([]Rating, error)
	// RatingsOfVendor returns one vendor key's ratings, oldest Created
	// first; ErrInvalid for a key that is not 32 bytes.
	RatingsOfVendor(ctx context.Context, vendorKey []byte) ([]Rating, error)
	// PutProfile keeps a vendor profile unless a newer one of the same key
	// is held (a later Created, or the same and a lower or equal ID). It
	// reports whether p was kept.
	PutProfile(ctx context.Context, p VendorProfile) (kept bool, err error)
	// Profile returns the profile of a vendor key.
	Profile(ctx context.Context, vendorKey ID) (VendorProfile, error)
	// Profiles returns every profile held, by ascending vendor key.
	Profiles(ctx context.Context) ([]VendorProfile, error)

	// MarkSeen is the replay index: it records id until `until` and reports
	// whether it was new. It is an atomic check-and-set: of two concurrent
	// calls with the same id exactly one gets fresh=true. Marking a known id
	// again keeps the later of the two untils, so an entry lasts as long as
	// any caller asked.
	MarkSeen(ctx context.Context, id ID, until time.Time) (fresh bool, err error)
	// Seen reports whether id is in the replay index (until Prune removes it).
	Seen(ctx context.Context, id ID) (bool, error)
	// SeenEntries returns the replay entries with until >= now, soonest
	// until first: a node loads them at start so that it answers "seen
	// before?" from memory.
	SeenEntries(ctx context.Context, now time.Time) ([]SeenEntry, error)

	// Prune deletes expired live intents, tombstones, relayed offers,
	// outbox entries and replay entries (expiry < now) and returns how many records it deleted
	// in all.
	Prune(ctx context.Context, now time.Time) (int, error)

	// Close releases the store. It is idempotent.
	Close() error
}
