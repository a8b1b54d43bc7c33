package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// Run runs the conformance suite. open must return a new, empty store each
// time it is called; the suite closes it. The cases run in parallel, each on
// its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"NotFound", testNotFound},
		{"EmptyLists", testEmptyLists},
		{"Invalid", testInvalid},
		{"OwnIntentsNewestFirst", testOwnIntentsNewestFirst},
		{"LiveIntentsFilter", testLiveIntentsFilter},
		{"LiveIntentReplace", testLiveIntentReplace},
		{"TombstoneDeletesLiveIntent", testTombstoneDeletesLiveIntent},
		{"TombstoneBlocksLiveIntent", testTombstoneBlocksLiveIntent},
		{"TombstonesFilter", testTombstonesFilter},
		{"OffersByIntent", testOffersByIntent},
		{"OffersByDirection", testOffersByDirection},
		{"OfferReplace", testOfferReplace},
		{"DealsNewestFirst", testDealsNewestFirst},
		{"RatingPerIntent", testRatingPerIntent},
		{"RatingReply", testRatingReply},
		{"RatingEvict", testRatingEvict},
		{"VendorProfiles", testVendorProfiles},
		{"RatingInvalid", testRatingInvalid},
		{"MarkSeen", testMarkSeen},
		{"MarkSeenConcurrent", testMarkSeenConcurrent},
		{"Apply", testApply},
		{"ApplyStateChange", testApplyStateChange},
		{"ApplyAtomic", testApplyAtomic},
		{"ApplyConcurrent", testApplyConcurrent},
		{"QueueOrder", testQueueOrder},
		{"SeenEntries", testSeenEntries},
		{"RelayedOffers", testRelayedOffers},
		{"ThreadMessages", testThreadMessages},
		{"Outbox", testOutbox},
		{"Prune", testPrune},
		{"ConcurrentUse", testConcurrentUse},
		{"Closed", testClosed},
		{"ContextDone", testContextDone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// t0 is the suite's "now". It has nanoseconds so that a store that rounds
// times fails.
var t0 = time.Date(2031, time.May, 6, 7, 8, 9, 123456789, time.UTC)

// names maps the IDs made by idOf back to their names for failure messages.
var names sync.Map

// idOf returns a stable ID for a name used in a test.
func idOf(name string) store.ID {
	id := sha256.Sum256([]byte(name))
	names.Store(id, name)
	return id
}

// nameOf returns the name idOf was given, or a hex prefix for other IDs.
func nameOf(id store.ID) string {
	if n, ok := names.Load(id); ok {
		return n.(string)
	}
	return hex.EncodeToString(id[:6])
}

func ownIntent(name string, created time.Time) store.OwnIntent {
	return store.OwnIntent{
		ID:          idOf(name),
		Category:    "electronics",
		Raw:         []byte("intent " + name),
		SigningSeed: bytesOf(32, 1),
		ReplySuite:  0x0020,
		ReplyKey:    bytesOf(32, 2),
		Created:     created,
		Expires:     created.Add(24 * time.Hour),
		State:       store.IntentOpen,
	}
}

func liveIntent(name, category string, received, expires time.Time) store.LiveIntent {
	return store.LiveIntent{
		ID:       idOf(name),
		Category: category,
		Raw:      []byte("intent " + name),
		Expires:  expires,
		Received: received,
	}
}

func tombstone(name, category string, expires time.Time) store.Tombstone {
	return store.Tombstone{
		IntentID:  idOf(name),
		Category:  category,
		Raw:       []byte("cancel " + name),
		IntentRaw: []byte("intent " + name),
		Expires:   expires,
	}
}

func offer(name, intentName string, d store.Direction, received time.Time) store.Offer {
	return store.Offer{
		ID:        idOf(name),
		IntentID:  idOf(intentName),
		Direction: d,
		Raw:       []byte("sealed " + name),
		Inner:     []byte("signed " + name),
		Status:    store.OfferValid,
		Received:  received,
	}
}

func deal(intentName, offerName string, closed time.Time) store.Deal {
	return store.Deal{
		IntentID:   idOf(intentName),
		OfferID:    idOf(offerName),
		Role:       store.RoleCustomer,
		IntentRaw:  []byte("intent " + intentName),
		OfferInner: []byte("signed " + offerName),
		AcceptRaw:  []byte("accept " + offerName),
		Closed:     closed,
	}
}

// bytesOf returns n bytes of value b: key material stand-ins.
func bytesOf(n int, b byte) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// same fails the test unless got and want hold the same values as far as a
// store promises to keep them: instants, not locations or monotonic
// readings; bytes, not whether an empty slice is nil.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if g, w := normalize(got), normalize(want); !reflect.DeepEqual(g, w) {
		t.Error(strings.Join(differences(what, reflect.ValueOf(g), reflect.ValueOf(w)), "\n"))
	}
}

// differences lists where got and want differ, one field per line, so that
// a failure names the field rather than dumping two records of raw bytes.
func differences(path string, got, want reflect.Value) []string {
	if got.Kind() == reflect.Interface && !got.IsNil() && !want.IsNil() {
		got, want = got.Elem(), want.Elem()
	}
	if got.Type() != want.Type() {
		return []string{fmt.Sprintf("%s: got a %s, want a %s", path, got.Type(), want.Type())}
	}
	var out []string
	switch {
	case got.Kind() == reflect.Slice && got.Type().Elem().Kind() != reflect.Uint8:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s: %d records, want %d", path, got.Len(), want.Len())}
		}
		for i := range got.Len() {
			out = append(out, differences(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i))...)
		}
	case got.Kind() == reflect.Struct && got.Type() != reflect.TypeFor[time.Time]():
		for i := range got.NumField() {
			out = append(out, differences(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i))...)
		}
	case !reflect.DeepEqual(got.Interface(), want.Interface()):
		out = append(out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
	}
	return out
}

// show formats one field for a failure message.
func show(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case store.ID:
		return nameOf(x)
	case []byte:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprintf("%v", v.Interface())
}

// normalize returns v (a record struct, a slice of them, or either in an
// interface) with every
// time.Time in UTC without a monotonic reading, and every empty byte slice
// nil.
func normalize[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	normalizeValue(rv)
	return v
}

func normalizeValue(rv reflect.Value) {
	switch rv.Kind() {
	case reflect.Interface:
		if rv.IsNil() {
			return
		}
		// What an interface holds is not addressable: normalize a copy.
		c := reflect.New(rv.Elem().Type()).Elem()
		c.Set(rv.Elem())
		normalizeValue(c)
		rv.Set(c)
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			if rv.Len() == 0 {
				rv.SetZero()
			}
			return
		}
		for i := range rv.Len() {
			normalizeValue(rv.Index(i))
		}
	case reflect.Struct:
		if t, ok := rv.Interface().(time.Time); ok {
			rv.Set(reflect.ValueOf(t.UTC()))
			return
		}
		for i := range rv.NumField() {
			normalizeValue(rv.Field(i))
		}
	}
}

// checkOrder fails the test unless got lists exactly want, in order.
func checkOrder[T any](t *testing.T, what string, got []T, id func(T) store.ID, want ...store.ID) {
	t.Helper()
	g := make([]string, len(got))
	for i, r := range got {
		g[i] = nameOf(id(r))
	}
	w := make([]string, len(want))
	for i, id := range want {
		w[i] = nameOf(id)
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("%s: got %v, want %v", what, g, w)
	}
}

// storedLive returns the live intent with that ID as LiveIntents lists it
// from the zero time (expired but unpruned ones too), or an error wrapping
// store.ErrNotFound: the store looks up no live intent by ID, so the suite
// looks by listing.
func storedLive(ctx context.Context, s store.Store, id store.ID) (store.LiveIntent, error) {
	list, err := s.LiveIntents(ctx, time.Time{})
	if err != nil {
		return store.LiveIntent{}, err
	}
	for _, in := range list {
		if in.ID == id {
			return in, nil
		}
	}
	return store.LiveIntent{}, fmt.Errorf("live intent %s: %w", nameOf(id), store.ErrNotFound)
}

func ownID(in store.OwnIntent) store.ID   { return in.ID }
func liveID(in store.LiveIntent) store.ID { return in.ID }
func tombID(t store.Tombstone) store.ID   { return t.IntentID }
func offerID(o store.Offer) store.ID      { return o.ID }
func dealID(d store.Deal) store.ID        { return d.IntentID }
