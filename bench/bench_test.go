package bench

import (
	"context"
	"crypto/ed25519"
	"slices"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
)

// TestHarnessQuick runs the harness at CI scale: 10 peers per system, a
// few dozen messages, a short round trip; every message must reach every
// peer on raw gossipsub and on intentcast with the stem off and on.
func TestHarnessQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 40 libp2p hosts")
	}
	ctx := t.Context()
	size, err := SignedIntentSize()
	if err != nil {
		t.Fatal(err)
	}
	load := Load{Rate: 20, Count: 30, Drain: time.Minute, Seed: 1} // Drain ends early once all arrived
	for _, system := range []string{Raw, RawPolicy, IntentcastNoStem, Intentcast} {
		var sw Swarm
		switch system {
		case Raw:
			sw, err = NewRawSwarm(ctx, 10, 1, size, 1)
		case RawPolicy:
			sw, err = NewRawPolicySwarm(ctx, 10, 1, size, 1)
		default:
			sw, err = NewICSwarmWith(ctx, 10, 1, ICOptions{MinWork: DefaultMinWork, NoStem: system == IntentcastNoStem})
		}
		if err != nil {
			t.Fatalf("%s: %v", system, err)
		}
		load.Hops = new(HopLog)
		res, err := RunLoad(ctx, sw, load)
		if cerr := sw.Close(); cerr != nil {
			t.Errorf("%s: Close: %v", system, cerr)
		}
		if err != nil {
			t.Fatalf("%s: %v", system, err)
		}
		t.Log(res)
		checkHops(t, system, res, load.Hops.Segments())
		if res.DeliveryRatio != 1 || res.Delivered != res.Expected {
			t.Errorf("%s delivered %d of %d (%.4f), want all", system, res.Delivered, res.Expected, res.DeliveryRatio)
		}
		if res.Duplicates != 0 || res.PublishErrors != 0 {
			t.Errorf("%s: %d duplicate deliveries, %d publish errors (%s), want none", system, res.Duplicates, res.PublishErrors, res.FirstError)
		}
		if res.P99 <= 0 || res.CPUPerDelivery <= 0 || res.GossipBytesPerDelivery <= 0 || res.AllocPerDelivery <= 0 {
			t.Errorf("%s: a figure is missing: %+v", system, res)
		}
		if !routedAll(system, res) {
			t.Errorf("%s: %d of %d deliveries stamped at the router (p50 %s), want all (but the stem's hops)", system, res.Routed, res.Delivered, ms(res.RoutedP50))
		}
	}

	rto := RoundTripOptions{Vendors: 3, Intents: 5, Rate: 10, Timeout: time.Minute, Seed: 1} // ends at the last accept
	rs, err := NewRawSwarm(ctx, 10, 2, size, 2)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := RoundTripRaw(ctx, rs, rto)
	rs.Close()
	if err != nil {
		t.Fatal(err)
	}
	is, err := NewICSwarm(ctx, 10, DefaultMinWork, 2)
	if err != nil {
		t.Fatal(err)
	}
	ir, err := RoundTripIntentcast(ctx, is, rto)
	is.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, rr)
	checkRoundTrip(t, ir)
}

// checkRoundTrip checks that every intent of a round trip completed, with
// every step stamped.
func checkRoundTrip(t *testing.T, r RoundTripResult) {
	t.Helper()
	t.Logf("round trip %s: first offer p50 %s, accept p50 %s", r.System, ms(r.FirstOffer.P50), ms(r.Accept.P50))
	if r.Accept.Count != r.Intents || r.Errors != 0 {
		t.Errorf("round trip %s: %d of %d accepts, %d errors (%s)", r.System, r.Accept.Count, r.Intents, r.Errors, r.FirstError)
	}
	// Each step but the last follows from the one before; the accept
	// can reach the vendor before the call that sent it returns, so
	// only its absence (a p50 of nothing: 0) is wrong.
	if l := r.Legs; l.Intent <= 0 || l.Offer <= 0 || l.AcceptCall <= 0 || l.AcceptTravel == 0 {
		t.Errorf("round trip %s: a step is missing: %+v", r.System, l)
	}
	// The run ends at the last accept, when slower vendors' offers may
	// still be on their way; each intent had its first offer, though.
	if r.Offers < int64(r.Intents) || r.Offers > int64(r.Vendors*r.Intents) {
		t.Errorf("round trip %s: customers received %d offers, want %d to %d", r.System, r.Offers, r.Intents, r.Vendors*r.Intents)
	}
}

// routedAll reports whether res stamped every delivery at the router too;
// with the stem on (Intentcast), every one but the stem's hops, whose
// number is a random draw: then some, and no more than all.
func routedAll(system string, res Result) bool {
	if res.RoutedP50 <= 0 || res.Routed > res.Delivered {
		return false
	}
	return system == Intentcast || res.Routed == res.Delivered
}

// checkHops checks a run's hop segments: every delivery came by gossip
// and is split once (with the stem on, the stem's hops are not gossip, so
// fewer), and each segment's percentiles are in order.
func checkHops(t *testing.T, system string, res Result, segs []HopSegment) {
	t.Helper()
	if len(segs) != 4 {
		t.Fatalf("%s: %d hop segments, want 4", system, len(segs))
	}
	for i, s := range segs {
		t.Logf("%s: %s", system, s)
		want := int(res.Delivered)
		switch {
		case i == 3 && s.Hops > want: // a peer whose mesh had it already sends nothing onward
			t.Errorf("%s: %q split %d hops, want at most the %d deliveries", system, s.Name, s.Hops, want)
		case i < 3 && system == Intentcast && (s.Hops == 0 || s.Hops > want):
			t.Errorf("%s: %q split %d hops, want 1 to %d", system, s.Name, s.Hops, want)
		case i < 3 && system != Intentcast && s.Hops != want:
			t.Errorf("%s: %q split %d hops, want one per delivery, %d", system, s.Name, s.Hops, want)
		}
		if s.Hops > 0 && !(s.P50 <= s.P90 && s.P90 <= s.P99) {
			t.Errorf("%s: %q percentiles out of order: %+v", system, s.Name, s)
		}
	}
	if segs[1].P50 <= 0 {
		t.Errorf("%s: the wire took %s at its median, want more than nothing", system, segs[1].P50)
	}
}

func TestMeasureValidation(t *testing.T) {
	v, err := MeasureValidation(t.Context(), 200, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v.Ed25519 <= 0 || v.ParseValidate <= 0 || v.NodeCheck <= 0 || v.NodeCheckPar <= 0 {
		t.Errorf("a rate is missing: %+v", v)
	}
}

func TestPercentile(t *testing.T) {
	xs := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		p    float64
		want int
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(xs, tt.p); got != tt.want {
			t.Errorf("percentile(1..10, %v) = %d, want %d", tt.p, got, tt.want)
		}
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v, want 2", got)
	}
}

func TestSpreadAndRatios(t *testing.T) {
	ic := []Result{{P99: 30}, {P99: 10}, {P99: 90}}
	raw := []Result{{P99: 10}, {P99: 10}, {P99: 0}}
	// Repeats are paired; a zero denominator drops its pair.
	if got, want := ratios(ic, raw, resultP99), []float64{3, 1}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ratios = %v, want %v", got, want)
	}
	s := spreadOf([]float64{3, 1, 2})
	if s != (spread{Med: 2, Min: 1, Max: 3, Count: 3}) || s.String() != "2.00 (1.00–3.00)" {
		t.Errorf("spreadOf(3, 1, 2) = %+v, %q", s, s)
	}
	if got := spreadOf([]float64{1.5}).String(); got != "1.50" {
		t.Errorf("one repeat = %q, want the value alone", got)
	}
	// A system not run (Options.Systems) has no ratio, not a ratio of 0.
	if got := spreadOf(ratios(ic, nil, resultP99)).String(); got != "–" {
		t.Errorf("ratio against a system not run = %q, want –", got)
	}
}

func TestTableSystems(t *testing.T) {
	o := Options{Repeats: 3, TargetRepeats: 7}
	all := o.systemsOf(Raw, RawPolicy, IntentcastNoStem, Intentcast)
	for r := range 7 {
		want := all
		if r >= 3 { // beyond Repeats only the systems the targets compare
			want = []string{Raw, IntentcastNoStem}
		}
		if got := o.tableSystems(all, r); !slices.Equal(got, want) {
			t.Errorf("repeat %d runs %v, want %v", r, got, want)
		}
	}
	// A run without both (Options.Systems) has nothing to pair beyond them.
	o.Systems = []string{Raw, Intentcast}
	if got := o.tableSystems(o.systemsOf(Raw, RawPolicy, IntentcastNoStem, Intentcast), 5); len(got) != 0 {
		t.Errorf("repeat 5 of raw and intentcast (stem on) runs %v, want nothing", got)
	}
	if got, want := (Options{Repeats: 3}).tableRuns(), "3 runs"; got != want {
		t.Errorf("tableRuns = %q, want %q", got, want)
	}
}

// The validation benchmarks: a node's checks against the bare Ed25519
// verification they contain (docs/BENCHMARKS.md, "Node"). Run with
//
//	go test -run x -bench Validate -benchmem ./bench/

// benchPool is a pool of distinct intents that refills, timer stopped.
// refillCPU is the process CPU time its refills (minting) took, for the
// benchmarks' cpu-ns/op to leave out.
type benchPool struct {
	b         *testing.B
	ins       []*intent.SignedIntent
	next      int
	refillCPU time.Duration
}

func (p *benchPool) get() *intent.SignedIntent {
	if p.next == len(p.ins) {
		p.b.StopTimer()
		c0 := cpuTime()
		ins, _, _, err := mintIntents(context.Background(), 1024, DefaultMinWork)
		if err != nil {
			p.b.Fatal(err)
		}
		p.ins, p.next = ins, 0
		p.refillCPU += cpuTime() - c0
		p.b.StartTimer()
	}
	p.next++
	return p.ins[p.next-1]
}

// reportCPU reports cpu-ns/op: the process's CPU time (user + system, the
// garbage collector's included) per operation since c0, less what is not
// the operation. Other load on the machine stretches wall time (ns/op) far
// more than it does CPU time, so compare this one across runs.
func reportCPU(b *testing.B, c0, exclude time.Duration) {
	cpu := cpuTime() - c0 - exclude
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func BenchmarkValidateEd25519(b *testing.B) {
	ins, _, _, err := mintIntents(context.Background(), 1, DefaultMinWork)
	if err != nil {
		b.Fatal(err)
	}
	si, err := sigInputOf(ins[0])
	if err != nil {
		b.Fatal(err)
	}
	c0 := cpuTime()
	for b.Loop() {
		if !ed25519.Verify(si.pub, si.tbs, si.sig) {
			b.Fatal("bad signature")
		}
	}
	reportCPU(b, c0, 0)
}

func BenchmarkValidateParseValidate(b *testing.B) {
	ins, _, _, err := mintIntents(context.Background(), 1, DefaultMinWork)
	if err != nil {
		b.Fatal(err)
	}
	policy := intent.Policy{MinWork: DefaultMinWork}
	c0 := cpuTime()
	for b.Loop() {
		m, err := intent.Parse(ins[0].Raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.(*intent.SignedIntent).Validate(time.Now(), policy); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0, 0)
}

// BenchmarkValidateNodeCheck runs the node's whole gossip validator on
// distinct intents (a node accepts each once).
func BenchmarkValidateNodeCheck(b *testing.B) {
	nd, err := newCheckNode(b.Context(), DefaultMinWork)
	if err != nil {
		b.Fatal(err)
	}
	defer nd.Close()
	pool := &benchPool{b: b}
	var spent time.Duration
	c0 := cpuTime()
	for b.Loop() {
		raw := pool.get().Raw
		t0 := time.Now()
		if err := nd.CheckMessage(b.Context(), benchCategory, false, raw); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(t0)
	}
	reportCPU(b, c0, pool.refillCPU)
	// ns/op also carries the refills' timer switching; this is the check.
	b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "ns/check")
}

// BenchmarkValidateNodeCheckParallel is the same on every core at once.
func BenchmarkValidateNodeCheckParallel(b *testing.B) {
	nd, err := newCheckNode(b.Context(), DefaultMinWork)
	if err != nil {
		b.Fatal(err)
	}
	defer nd.Close()
	ins, _, _, err := mintIntents(context.Background(), max(b.N, 1), DefaultMinWork)
	if err != nil {
		b.Fatal(err)
	}
	next := make(chan int, len(ins))
	for k := range ins {
		next <- k
	}
	close(next)
	b.SetParallelism(1)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := nd.CheckMessage(context.Background(), benchCategory, false, ins[<-next].Raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
