package store

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ratingRec is how a Rating is stored; the rating ID is the key.
type ratingRec struct {
	IntentID  []byte `cbor:"1,keyasint"`
	VendorKey []byte `cbor:"2,keyasint"`
	Category  string `cbor:"3,keyasint,omitempty"`
	Score     uint8  `cbor:"4,keyasint"`
	Raw       []byte `cbor:"5,keyasint,omitempty"`
	Created   []byte `cbor:"6,keyasint"`
	Received  []byte `cbor:"7,keyasint"`
	Witnessed bool   `cbor:"8,keyasint,omitempty"`
	ReplyID   []byte `cbor:"9,keyasint,omitempty"`
	ReplyRaw  []byte `cbor:"10,keyasint,omitempty"`
}

var ratingByIntent = index[Rating]{
	bucket: bucketRatingByIntent,
	key:    func(r Rating) []byte { return append(bytes.Clone(r.IntentID[:]), r.ID[:]...) },
}

var ratingByVendor = index[Rating]{
	bucket: bucketRatingByVendor,
	key: func(r Rating) []byte {
		return append(appendStamp(bytes.Clone(r.VendorKey), r.Created), r.ID[:]...)
	},
}

var ratingByCat = index[Rating]{
	bucket: bucketRatingByCat,
	key:    func(r Rating) []byte { return append(appendText(nil, r.Category), r.ID[:]...) },
}

var ratings = &table[Rating]{
	bucket:  bucketRating,
	id:      func(r Rating) ID { return r.ID },
	encode:  encodeRating,
	decode:  decodeRating,
	indexes: []index[Rating]{ratingByIntent, ratingByVendor, ratingByCat},
}

func encodeRating(r Rating) ([]byte, error) {
	if len(r.VendorKey) != 32 {
		return nil, fmt.Errorf("vendor key of %d bytes, want 32: %w", len(r.VendorKey), ErrInvalid)
	}
	if r.Score < 1 || r.Score > 5 {
		return nil, fmt.Errorf("score %d, want 1..5: %w", r.Score, ErrInvalid)
	}
	rec := ratingRec{
		IntentID: r.IntentID[:], VendorKey: r.VendorKey, Category: r.Category, Score: r.Score, Raw: r.Raw,
		Created: appendStamp(nil, r.Created), Received: appendStamp(nil, r.Received), Witnessed: r.Witnessed,
	}
	if r.ReplyID != (ID{}) {
		rec.ReplyID, rec.ReplyRaw = r.ReplyID[:], r.ReplyRaw
	}
	return marshalRec(rec)
}

func decodeRating(id ID, b []byte) (Rating, error) {
	var r ratingRec
	if err := unmarshalRec(b, &r); err != nil {
		return Rating{}, err
	}
	var f fields
	out := Rating{
		ID: id, IntentID: f.id("IntentID", r.IntentID), VendorKey: r.VendorKey, Category: r.Category, Score: r.Score,
		Raw: r.Raw, Created: f.stamp("Created", r.Created), Received: f.stamp("Received", r.Received), Witnessed: r.Witnessed,
		ReplyRaw: r.ReplyRaw,
	}
	if r.ReplyID != nil {
		out.ReplyID = f.id("ReplyID", r.ReplyID)
	}
	if len(r.VendorKey) != 32 {
		f.fail("VendorKey", fmt.Errorf("%d bytes, want 32", len(r.VendorKey)))
	}
	return out, f.err
}

// PutRating keeps r unless the store holds a rating of the same intent
// whose ID is lower or equal: of two ratings of one deal every node keeps
// the lower ID (docs/PROTOCOL.md, "One rating per deal"). A rating it
// replaces goes, with its reply, and so do the ratings evict names, in the
// same transaction, if r is kept. It reports whether r was kept.
func (s *Bolt) PutRating(ctx context.Context, r Rating, evict ...ID) (kept bool, err error) {
	err = s.update(ctx, "put rating", func(tx *bolt.Tx) error {
		held, err := ratings.ascend(tx, ratingByIntent, r.IntentID[:], nil)
		if err != nil {
			return err
		}
		for _, h := range held {
			if bytes.Compare(h.ID[:], r.ID[:]) <= 0 {
				return nil
			}
		}
		for _, h := range held {
			if _, err := ratings.remove(tx, h.ID); err != nil {
				return err
			}
		}
		for _, id := range evict {
			if _, err := ratings.remove(tx, id); err != nil {
				return err
			}
		}
		r.ReplyID, r.ReplyRaw = ID{}, nil
		if err := ratings.put(tx, r); err != nil {
			return err
		}
		kept = true
		return nil
	})
	return kept, err
}

// PutRatingReply keeps the reply replyRaw (ID replyID) to the rating
// ratingID unless the rating already has a reply with a lower or equal ID.
// It reports whether the reply was kept; ErrNotFound if the rating is not
// held.
func (s *Bolt) PutRatingReply(ctx context.Context, ratingID, replyID ID, replyRaw []byte) (kept bool, err error) {
	err = s.update(ctx, "put rating reply", func(tx *bolt.Tx) error {
		r, err := ratings.get(tx, ratingID)
		if err != nil {
			return err
		}
		if r.ReplyID != (ID{}) && bytes.Compare(r.ReplyID[:], replyID[:]) <= 0 {
			return nil
		}
		r.ReplyID, r.ReplyRaw = replyID, replyRaw
		if err := ratings.put(tx, r); err != nil {
			return err
		}
		kept = true
		return nil
	})
	return kept, err
}

// Rating returns the rating with that ID.
func (s *Bolt) Rating(ctx context.Context, id ID) (r Rating, err error) {
	err = s.view(ctx, "get rating", func(tx *bolt.Tx) error {
		r, err = ratings.get(tx, id)
		return err
	})
	return r, err
}

// Ratings returns the ratings of a category's intents (all if category is
// ""), by ascending rating ID within a category.
func (s *Bolt) Ratings(ctx context.Context, category string) (list []Rating, err error) {
	err = s.view(ctx, "list ratings", func(tx *bolt.Tx) error {
		if category == "" {
			list, err = ratings.ascend(tx, ratingByCat, nil, nil)
		} else {
			list, err = ratings.ascend(tx, ratingByCat, appendText(nil, category), nil)
		}
		return err
	})
	return list, err
}

// RatingsOfVendor returns the ratings of one vendor key, oldest Created
// first.
func (s *Bolt) RatingsOfVendor(ctx context.Context, vendorKey []byte) (list []Rating, err error) {
	err = s.view(ctx, "list ratings of vendor", func(tx *bolt.Tx) error {
		if len(vendorKey) != 32 {
			return fmt.Errorf("vendor key of %d bytes, want 32: %w", len(vendorKey), ErrInvalid)
		}
		list, err = ratings.ascend(tx, ratingByVendor, vendorKey, nil)
		return err
	})
	return list, err
}

// profileRec is how a VendorProfile is stored; the vendor key is the key.
type profileRec struct {
	ID      []byte `cbor:"1,keyasint"`
	Raw     []byte `cbor:"2,keyasint,omitempty"`
	Created []byte `cbor:"3,keyasint"`
}

var profiles = &table[VendorProfile]{
	bucket: bucketProfile,
	id:     func(p VendorProfile) ID { return p.VendorKey },
	encode: func(p VendorProfile) ([]byte, error) {
		return marshalRec(profileRec{ID: p.ID[:], Raw: p.Raw, Created: appendStamp(nil, p.Created)})
	},
	decode: func(key ID, b []byte) (VendorProfile, error) {
		var r profileRec
		if err := unmarshalRec(b, &r); err != nil {
			return VendorProfile{}, err
		}
		var f fields
		p := VendorProfile{VendorKey: key, ID: f.id("ID", r.ID), Raw: r.Raw, Created: f.stamp("Created", r.Created)}
		return p, f.err
	},
}

// PutProfile keeps p unless the store holds a profile of the same vendor
// key that is newer: a later Created, or the same and a lower or equal ID.
// It reports whether p was kept.
func (s *Bolt) PutProfile(ctx context.Context, p VendorProfile) (kept bool, err error) {
	err = s.update(ctx, "put vendor profile", func(tx *bolt.Tx) (err error) {
		kept, err = profiles.putUnless(tx, p, func(held VendorProfile) bool {
			return held.Created.After(p.Created) || (held.Created.Equal(p.Created) && bytes.Compare(held.ID[:], p.ID[:]) <= 0)
		})
		return err
	})
	return kept, err
}

// Profile returns the profile of a vendor key.
func (s *Bolt) Profile(ctx context.Context, vendorKey ID) (p VendorProfile, err error) {
	err = s.view(ctx, "get vendor profile", func(tx *bolt.Tx) error {
		p, err = profiles.get(tx, vendorKey)
		return err
	})
	return p, err
}

// Profiles returns every profile held, by ascending vendor key.
func (s *Bolt) Profiles(ctx context.Context) (list []VendorProfile, err error) {
	err = s.view(ctx, "list vendor profiles", func(tx *bolt.Tx) error {
		list, err = profiles.all(tx)
		return err
	})
	return list, err
}
