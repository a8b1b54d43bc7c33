package bench

import (
	"testing"
	"time"
)

// TestRoundTripReachedIsEarliest: the intent's arrival at its first
// vendor is the earliest vendor's time, whatever order the vendors'
// reports come in (from processes of their own, or goroutines stamped
// before they report), so the offer step that follows it is never
// negative. Reported latest first, the first report's time was kept
// (TestProcRoundTrip failed so beside a CPU hog: offer p50 -0.8 ms).
func TestRoundTripReachedIsEarliest(t *testing.T) {
	rt, err := newRoundTrip(4, RoundTripOptions{Vendors: 2, Intents: 1})
	if err != nil {
		t.Fatal(err)
	}
	trip := &procTrip{rt: rt}
	ms := int64(time.Millisecond)
	rt.sent[0].Store(1 * ms)
	for _, m := range []procMsg{
		{Op: "step", Step: "reached", K: 0, At: 5 * ms}, // the later vendor reports first
		{Op: "step", Step: "reached", K: 0, At: 2 * ms},
		{Op: "step", Step: "offered", K: 0, At: 4 * ms}, // the earlier vendor's offer
		{Op: "step", Step: "reached", K: 0, At: 3 * ms},
	} {
		trip.event(m)
	}
	if got := rt.reached[0].Load(); got != 2*ms {
		t.Fatalf("reached = %v, want the earliest report, 2ms", time.Duration(got))
	}
	if l := rt.legs(); l.Intent != time.Millisecond || l.Offer != 2*time.Millisecond {
		t.Errorf("legs = %+v, want the intent 1ms to its first vendor and the offer 2ms after", l)
	}
}
