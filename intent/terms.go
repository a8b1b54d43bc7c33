package intent

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"unicode/utf8"
)

// TermID names one of the customer's standard terms. The roster follows the
// spirit of IEEE 7012 ("MyTerms") and Customer Commons: short, plain
// promises a vendor makes by answering.
type TermID uint

// The roster. Numbers are wire values and never reused.
const (
	TermNoTracking  TermID = 1 // no tracking beyond what the deal needs
	TermNoResale    TermID = 2 // no sale or sharing of the customer's data
	TermDeleteAfter TermID = 3 // delete the customer's data after the deal
	TermNoMarketing TermID = 4 // no marketing messages after the deal
	TermNoProfiling TermID = 5 // no profile built of the customer
	TermDealOnlyUse TermID = 6 // data used only to fulfil this deal
	maxRosterTermID        = 6 // the highest id on the roster
	termsHashDomain        = "intentcast/1/terms\x00"
)

// TermInfo describes a roster entry for people.
type TermInfo struct {
	ID          TermID `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Roster lists every standard term with a plain explanation.
var Roster = []TermInfo{
	{TermNoTracking, "no-tracking", "Do not track me: no cookies, pixels or identifiers beyond what this deal needs."},
	{TermNoResale, "no-resale", "Do not sell, rent or share my data with anyone."},
	{TermDeleteAfter, "delete-after", "Delete my data once the deal is done (keep only what the law requires)."},
	{TermNoMarketing, "no-marketing", "Do not send me marketing after this deal unless I ask."},
	{TermNoProfiling, "no-profiling", "Do not build or enrich a profile of me."},
	{TermDealOnlyUse, "deal-only", "Use my data only to fulfil this deal."},
}

// DefaultTerms is what a customer asks for when they choose nothing:
// no tracking, no resale, delete after the deal.
func DefaultTerms() Terms {
	return Terms{IDs: []TermID{TermNoTracking, TermNoResale, TermDeleteAfter}}
}

// TermByName finds a roster entry by its name.
func TermByName(name string) (TermInfo, bool) {
	for _, t := range Roster {
		if t.Name == name {
			return t, true
		}
	}
	return TermInfo{}, false
}

// Terms are the customer's conditions. A vendor's offer commits to their
// hash (TermsHash); a relay never needs to read them.
type Terms struct {
	IDs    []TermID          `cbor:"0,keyasint,omitempty" json:"ids,omitempty"`    // roster ids, ascending, unique
	Custom map[string]string `cbor:"1,keyasint,omitempty" json:"custom,omitempty"` // bounded free-form terms
}

func (t Terms) check() error {
	if len(t.IDs) > MaxTermIDs {
		return fmt.Errorf("%w: %d term ids, at most %d", ErrSchema, len(t.IDs), MaxTermIDs)
	}
	for i, id := range t.IDs {
		if id == 0 || id > maxRosterTermID {
			return fmt.Errorf("%w: term id %d is not on the roster (1..%d)", ErrSchema, id, maxRosterTermID)
		}
		if i > 0 && t.IDs[i-1] >= id {
			return fmt.Errorf("%w: term ids must be ascending and unique", ErrSchema)
		}
	}
	if len(t.Custom) > MaxCustomTerms {
		return fmt.Errorf("%w: %d custom terms, at most %d", ErrSchema, len(t.Custom), MaxCustomTerms)
	}
	for k, v := range t.Custom {
		if k == "" || len(k) > MaxCustomKey || len(v) > MaxCustomValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: custom term %q: key must be 1..%d bytes and value at most %d", ErrSchema, k, MaxCustomKey, MaxCustomValue)
		}
	}
	return nil
}

// Normalize sorts and de-duplicates the roster ids, so that callers building
// an intent do not have to.
func (t Terms) Normalize() Terms {
	ids := slices.Clone(t.IDs)
	slices.Sort(ids)
	t.IDs = slices.Compact(ids)
	return t
}

// Has reports whether the terms include roster term id.
func (t Terms) Has(id TermID) bool { return slices.Contains(t.IDs, id) }

// TermsHash is the commitment an offer makes: SHA-256 over a domain
// separator and the canonical encoding of the terms.
func TermsHash(t Terms) ([32]byte, error) {
	b, err := marshal(t)
	if err != nil {
		return [32]byte{}, fmt.Errorf("hash terms: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(termsHashDomain))
	h.Write(b)
	return [32]byte(h.Sum(nil)), nil
}
