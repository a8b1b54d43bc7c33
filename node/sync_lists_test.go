package node

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestSyncListsMergeClosures: what a node serves and lists of a category's
// intents, when its live set and its tombstones overlap. A live intent
// with a tombstone is served as the tombstone and listed once, as one;
// a tombstone that cannot be served (here malformed) hides its intent
// from the served set but still lists it as closed; the rest is served
// as it is, everything by ascending prefix.
func TestSyncListsMergeClosures(t *testing.T) {
	n := startNode(t, testConfig(t))
	now := time.Now()
	var ins []*intent.SignedIntent
	var keys []intent.Keys
	for i := range 4 {
		d := laptopDraft(now)
		d.Text = fmt.Sprintf("%s, request %d", d.Text, i)
		d.Work = testPolicy.MinWork
		in, k, err := intent.NewIntent(t.Context(), d, nil)
		if err != nil {
			t.Fatal(err)
		}
		n.live.add(in, now)
		ins, keys = append(ins, in), append(keys, k)
	}
	// closedOnly: a tombstone whose intent this node no longer holds.
	live, cancelled, hidden, closedOnly := ins[0], ins[1], ins[2], ins[3]
	n.live.remove(closedOnly.ID)
	expires := now.Add(time.Hour)
	var tombs []store.Tombstone
	for _, i := range []int{1, 3} { // cancelled, closedOnly
		in := ins[i]
		c, err := intent.NewCancel(in, keys[i], now)
		if err != nil {
			t.Fatal(err)
		}
		tombs = append(tombs, store.Tombstone{IntentID: in.ID, Category: "electronics", Raw: c.Raw, IntentRaw: in.Raw, Expires: expires})
	}
	tombs = append(tombs, store.Tombstone{IntentID: hidden.ID, Category: "electronics", Raw: []byte("not a closure"), Expires: expires})
	if err := n.store.Apply(t.Context(), store.Batch{Tombstones: tombs}); err != nil {
		t.Fatal(err)
	}

	served, err := n.sync.servedSet(t.Context(), "electronics", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := map[intent.ID]bool{live.ID: false, cancelled.ID: true, closedOnly.ID: true} // ID -> served as a tombstone
	if len(served) != len(want) {
		t.Fatalf("served %d entries, want %d (live, cancelled, closed only; not the hidden one)", len(served), len(want))
	}
	for _, e := range served {
		tomb, ok := want[e.id]
		if !ok || e.tomb != tomb || e.prefix != prefixOf(e.id) {
			t.Fatalf("served %x (tombstone %v, prefix %x): want one of live, cancelled, closed only, as what it is", e.id[:6], e.tomb, e.prefix)
		}
		if e.tomb && len(e.intent) == 0 {
			t.Fatalf("tombstone of %x served without its intent", e.id[:6])
		}
	}
	if !slices.IsSortedFunc(served, func(a, b servedEntry) int { return cmp.Compare(a.prefix, b.prefix) }) {
		t.Fatal("served set not in ascending prefix order")
	}

	have, err := n.sync.haveList(t.Context(), "electronics", syncSetIntents)
	if err != nil {
		t.Fatal(err)
	}
	wantHave := []haveEntry{{prefixOf(live.ID), false}, {prefixOf(cancelled.ID), true}, {prefixOf(hidden.ID), true}, {prefixOf(closedOnly.ID), true}}
	slices.SortFunc(wantHave, func(a, b haveEntry) int { return cmp.Compare(a.prefix, b.prefix) })
	if !slices.Equal(have, wantHave) {
		t.Fatalf("have list %v, want %v", have, wantHave)
	}
}
