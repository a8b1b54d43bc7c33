package store

// The on-disk layout of schema 3. Every bucket is top level. "stamp" is a
// 12-byte time (see appendStamp), "text" a uvarint length then the bytes, and
// "|" plain concatenation. Record values are CBOR maps with small integer keys
// (see the *Rec types); index values are empty: an index key ends with the ID
// of the record it points at, so a scan needs no value lookups to find it.
//
//	meta             "schema"                     -> uint32 big-endian, currently 3
//	                 "journal"                    -> uint64 big-endian: the journal's last record in the tree (bolt_journal.go)
//	own              intent ID                    -> ownIntentRec
//	own_by_created   stamp(Created)|intent ID     -> ∅   OwnIntents, read backwards
//	live             stamp(Expires)|intent ID     -> liveIntentRec   LiveIntents, Prune
//	tomb             intent ID                    -> tombstoneRec
//	tomb_by_cat      text(Category)|stamp(Expires)|intent ID -> ∅   Tombstones(category)
//	tomb_by_exp      stamp(Expires)|intent ID     -> ∅   Tombstones(""), Prune
//	offer            offer ID                     -> offerRec
//	offer_by_intent  intent ID|stamp(Received)|offer ID      -> ∅   Offers
//	offer_by_dir     text(Direction)|stamp(Received)|offer ID -> ∅   OffersByDirection
//	deal             intent ID                    -> dealRec
//	deal_by_closed   stamp(Closed)|intent ID      -> ∅   Deals, read backwards
//	relay            offer ID                     -> relayRec
//	relay_by_cat     text(Category)|stamp(Expires)|offer ID  -> ∅   RelayedOffers(category)
//	relay_by_exp     stamp(Expires)|offer ID      -> ∅   RelayedOffers(""), Prune
//	outbox           message ID                   -> outRec (an own message and how far it got)
//	outbox_by_exp    stamp(Expires)|message ID    -> ∅   Outbox, Prune
//	seen             message ID                   -> stamp(until)
//	seen_by_until    stamp(until)|message ID      -> ∅   Prune
//	rating           rating ID                    -> ratingRec (with its reply)
//	rating_by_intent rated intent ID|rating ID    -> ∅   one rating per deal
//	rating_by_vendor vendor key|stamp(Created)|rating ID -> ∅   RatingsOfVendor
//	rating_by_cat    text(Category)|rating ID     -> ∅   Ratings(category), sync
//	profile          vendor key                   -> profileRec
//	thread           sealed thread message ID     -> threadRec
//	thread_by_intent intent ID|root offer ID|uint16(Seq)|message ID -> ∅   ThreadMessages
//
// Expiry indexes start with the stamp so that "unexpired" is one Seek to now
// and "expired" one scan from the first key up to now, whatever the
// category. Category indexes put the expiry right after the category for the
// same reason within one category. Live intents are keyed by expiry, with
// no index at all (bolt_live.go says why): the node answers sync, queries
// and lookups by ID from its live set, and reads the stored ones only at
// start (LiveIntents, which sorts them by Received in memory). Schema 1
// keyed them by ID with two indexes (live_by_exp, live_by_cat), schema 2
// with one (live_by_exp); every relayed intent wrote a key to each.
//
// Adding a bucket needs no new version (Open creates missing buckets, and an
// older build ignores them); changing anything else above means a new
// schemaVersion and a step in upgrade (bolt_schema.go).
var (
	bucketMeta          = []byte("meta")
	bucketOwn           = []byte("own")
	bucketOwnByCreated  = []byte("own_by_created")
	bucketLive          = []byte("live")
	bucketTomb          = []byte("tomb")
	bucketTombByCat     = []byte("tomb_by_cat")
	bucketTombByExp     = []byte("tomb_by_exp")
	bucketOffer         = []byte("offer")
	bucketOfferByIntent = []byte("offer_by_intent")
	bucketOfferByDir    = []byte("offer_by_dir")
	bucketDeal          = []byte("deal")
	bucketDealByClosed  = []byte("deal_by_closed")
	bucketRelay         = []byte("relay")
	bucketRelayByCat    = []byte("relay_by_cat")
	bucketRelayByExp    = []byte("relay_by_exp")
	bucketOut           = []byte("outbox")
	bucketOutByExp      = []byte("outbox_by_exp")
	bucketSeen          = []byte("seen")
	bucketSeenByUntil   = []byte("seen_by_until")

	bucketRating         = []byte("rating")
	bucketRatingByIntent = []byte("rating_by_intent")
	bucketRatingByVendor = []byte("rating_by_vendor")
	bucketRatingByCat    = []byte("rating_by_cat")
	bucketProfile        = []byte("profile")
	bucketThread         = []byte("thread")
	bucketThreadByIntent = []byte("thread_by_intent")
)

// allBuckets lists every bucket of the layout; Open creates the missing ones.
var allBuckets = [][]byte{
	bucketMeta,
	bucketOwn, bucketOwnByCreated,
	bucketLive,
	bucketTomb, bucketTombByCat, bucketTombByExp,
	bucketOffer, bucketOfferByIntent, bucketOfferByDir,
	bucketDeal, bucketDealByClosed,
	bucketRelay, bucketRelayByCat, bucketRelayByExp,
	bucketOut, bucketOutByExp,
	bucketSeen, bucketSeenByUntil,
	bucketRating, bucketRatingByIntent, bucketRatingByVendor, bucketRatingByCat,
	bucketProfile,
	bucketThread, bucketThreadByIntent,
}
