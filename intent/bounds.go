package intent

import "time"

// Bounds on every variable-size field. They are part of the protocol: a
// message beyond any of them is rejected by every node (docs/PROTOCOL.md).
const (
	Version = 1 // the wire version every message carries in key 0

	MaxIntentSize = 8 << 10 // bytes of a signed intent on the wire
	MaxOfferSize  = 8 << 10 // bytes of a sealed offer on the wire
	MaxAcceptSize = 4 << 10 // bytes of a signed accept on the wire
	MaxCancelSize = 512     // bytes of a signed cancel on the wire

	MaxPathDepth    = 4    // sub-category segments
	MaxPathSegment  = 32   // bytes per segment
	MaxText         = 1024 // bytes of free text (UTF-8, any language)
	MaxRegion       = 16   // bytes of a region code
	MaxQuantity     = 1_000_000
	MaxPrice        = 1_000_000_000_000_000 // minor units: 10^15 covers any real price
	MaxTermIDs      = 16
	MaxCustomTerms  = 8
	MaxCustomKey    = 32
	MaxCustomValue  = 256
	MaxVendorName   = 64
	MaxVendorURL    = 256
	MaxAcceptDetail = 2048 // bytes of sealed contact/delivery details

	// Ratings, rating replies and vendor profiles (docs/PROTOCOL.md,
	// Ratings). A rating carries a whole deal record, so its bound is the
	// record's plus its own text and framing.
	MaxRatingSize  = 21 << 10 // bytes of a signed rating on the wire
	MaxReplySize   = 1 << 10  // bytes of a signed rating reply
	MaxProfileSize = 2 << 10  // bytes of a signed vendor profile
	MaxScore       = 5        // scores are 1..MaxScore
	MaxRatingText  = 512      // bytes of a rating's text
	MaxReplyText   = 512      // bytes of a reply's text (1..)
	MaxProfileText = 1024     // bytes of a vendor profile's description

	MaxLifetime = 30 * 24 * time.Hour // expires - created of an intent
	MaxOfferTTL = 30 * 24 * time.Hour // valid-until - created of an offer

	NonceSize = 8 // bytes of proof-of-work nonce
	MaxWork   = 40
)
