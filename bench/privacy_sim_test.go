//go:build simulation

package bench

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/node"
)

// The first-spy estimator against the stem, on go-libp2p's simulated
// network (docs/PRIVACY.md, "Origin privacy"). A fraction p of the nodes
// are spies that collude: each notes, for every message, when it first
// heard of it and from whom (a stem frame or a gossip delivery); for a
// message, the spy that heard of it first names the peer it heard it from
// as the origin. Spies here behave honestly otherwise (they relay like
// anyone), so one run of the network serves every spy fraction: the spy
// sets are drawn afterwards, many times, from the same observations.
//
//	ICBENCH_PRIVACY=1000 ICBENCH_PRIVACY_COUNT=50 ICBENCH_PRIVACY_OUT=../docs/privacy.tsv \
//	  go test -tags simulation -run TestStemPrivacy -v -timeout 150m ./bench/
//
// ICBENCH_PRIVACY_COUNT is the messages per setting (default 100; 50 for
// docs/PRIVACY.md, about 4 minutes of CPU per setting at N = 1000),
// ICBENCH_PRIVACY_Q the fluff probabilities in the order run (default
// 0.3,0.5,0.1,0.2; stem off always runs first), ICBENCH_PRIVACY_OUT a file
// for the table as tab-separated values (docs/privacy.gp plots it).

// sighting is when a node first heard of a message, and from whom.
type sighting struct {
	at   int64
	from peer.ID
}

// spyTracer is the swarm's tracer plus, for the node it watches, the first
// sighting of every message: by stem frame (node.StemTracer) or by gossip
// delivery.
type spyTracer struct {
	*tracer
	mu    sync.Mutex
	first map[uint64]sighting // by sigTail of the message
}

var _ node.StemTracer = (*spyTracer)(nil)

func (t *spyTracer) note(data []byte, from peer.ID) {
	if len(data) < 8 {
		return
	}
	at := now()
	key := sigTail(data)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.first[key]; !ok {
		t.first[key] = sighting{at: at, from: from}
	}
}

func (t *spyTracer) DeliverMessage(m *pubsub.Message)   { t.note(m.Data, m.ReceivedFrom) }
func (t *spyTracer) StemFrame(from peer.ID, msg []byte) { t.note(msg, from) }

// privacyRun is what one setting's run left to analyse.
type privacyRun struct {
	setting string
	q       float64 // 0: stem off
	res     Result
	ids     []peer.ID    // node i's peer ID
	origin  []int        // message k's origin
	seen    [][]sighting // [k][i]: node i's first sighting of message k (at 0: never)
	stats   node.StemStats
}

// spyPrecision plays the first-spy estimator for sets random spy sets of
// a fraction p of the nodes: for each message whose origin is not a spy,
// the spy that heard of it first names its sender. It returns the share of
// those messages whose origin was named, per spy set.
func (r *privacyRun) spyPrecision(p float64, sets int, seed uint64) []float64 {
	n := len(r.ids)
	rnd := rand.New(rand.NewPCG(seed, uint64(p*1e6)))
	out := make([]float64, 0, sets)
	for range sets {
		spy := make([]bool, n)
		for _, i := range rnd.Perm(n)[:int(math.Round(p*float64(n)))] {
			spy[i] = true
		}
		hits, asked := 0, 0
		for k, o := range r.origin {
			if spy[o] {
				continue
			}
			asked++
			best := -1
			for i := range n {
				s := r.seen[k][i]
				if !spy[i] || s.at == 0 {
					continue
				}
				// Ties (same virtual instant) go to the lower index: rare, as
				// link latencies differ per pair.
				if best < 0 || s.at < r.seen[k][best].at {
					best = i
				}
			}
			if best >= 0 && r.seen[k][best].from == r.ids[o] {
				hits++
			}
		}
		out = append(out, float64(hits)/float64(max(asked, 1)))
	}
	return out
}

// runPrivacy runs one setting: n nodes, count messages from random nodes.
func runPrivacy(t *testing.T, n, count int, q float64) *privacyRun {
	run := &privacyRun{q: q, setting: "stem off"}
	if q > 0 {
		run.setting = fmt.Sprintf("stem, q = %.2f", q)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		var spies []*spyTracer // by node: the builder wraps tracers in node order
		spyOn := func(tr *tracer) pubsub.RawTracer {
			s := &spyTracer{tracer: tr, first: make(map[uint64]sighting)}
			spies = append(spies, s)
			return s
		}
		sw, ic, err := newSimIntentcast(ctx, t, n, 1, simOptions{NoStem: q == 0, FluffProbability: q, Tracer: spyOn, BasicHosts: true})
		if err != nil {
			t.Fatal(err)
		}
		// 1 message a second: the stems of one message are over before the
		// next one starts, as for customers who publish now and then.
		res, err := RunLoad(ctx, sw, Load{Rate: 1, Count: count, Drain: 2 * time.Minute, Deadline: 10 * time.Second, Seed: 7})
		if err != nil {
			sw.Close()
			t.Fatal(err)
		}
		run.res = res
		rs := ic.run.Load()
		for _, nd := range ic.Nodes() {
			run.ids = append(run.ids, nd.ID())
			st := nd.StemStats()
			run.stats.Stemmed += st.Stemmed
			run.stats.Held += st.Held
			run.stats.Direct += st.Direct
			run.stats.FailSafe += st.FailSafe
			run.stats.Fluffed += st.Fluffed
			run.stats.RelayFailSafe += st.RelayFailSafe
			run.stats.Looped += st.Looped
			run.stats.Forwarded += st.Forwarded
		}
		run.origin = slices.Clone(rs.rec.from)
		run.seen = make([][]sighting, count)
		for k := range run.seen {
			run.seen[k] = make([]sighting, n)
		}
		for i, spy := range spies {
			spy.mu.Lock()
			for sig, s := range spy.first {
				if k, ok := rs.bySig[sig]; ok {
					run.seen[k][i] = s
				}
			}
			spy.mu.Unlock()
		}
		if err := sw.Close(); err != nil {
			t.Logf("close: %v", err)
		}
	})
	return run
}

// row formats r as a row of the table (Markdown) and of the plot's data
// (tab-separated), its latency cost against base, stem off's p50.
func (r *privacyRun) row(fractions []float64, sets int, base time.Duration) (md, tsv string) {
	var m, d strings.Builder
	fmt.Fprintf(&m, "| %s |", r.setting)
	fmt.Fprintf(&d, "%.2f", r.q)
	for j, p := range fractions {
		v := r.spyPrecision(p, sets, uint64(j+1))
		slices.Sort(v)
		mean := 0.0
		for _, x := range v {
			mean += x
		}
		mean /= float64(len(v))
		lo, hi := v[len(v)*5/100], v[len(v)*95/100]
		fmt.Fprintf(&m, " %.3f (%.2f–%.2f) = %.1f p |", mean, lo, hi, mean/p)
		fmt.Fprintf(&d, "\t%.4f\t%.4f\t%.4f", mean, lo, hi)
	}
	cost := r.res.P50 - base
	fmt.Fprintf(&m, " %.4f | %s | %s | %s | %s | %d + %d | %d |\n", r.res.DeliveryRatio, msf(r.res.P50), msf(r.res.P95), msf(r.res.P99), msf(cost),
		r.stats.FailSafe, r.stats.RelayFailSafe, r.stats.Looped)
	fmt.Fprintf(&d, "\t%.1f\t%.1f\n", float64(r.res.P50)/1e6, float64(cost)/1e6)
	return m.String(), d.String()
}

func TestStemPrivacy(t *testing.T) {
	spec := os.Getenv("ICBENCH_PRIVACY")
	if spec == "" {
		t.Skip("set ICBENCH_PRIVACY to the network size, e.g. ICBENCH_PRIVACY=1000")
	}
	n, err := strconv.Atoi(spec)
	if err != nil {
		t.Fatalf("ICBENCH_PRIVACY: %v", err)
	}
	count := 100
	if c, err := strconv.Atoi(os.Getenv("ICBENCH_PRIVACY_COUNT")); err == nil {
		count = c
	}
	qs := []float64{0.3, 0.5, 0.1, 0.2}
	if s := os.Getenv("ICBENCH_PRIVACY_Q"); s != "" {
		qs = nil
		for _, f := range strings.Split(s, ",") {
			q, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || q <= 0 || q > 1 {
				t.Fatalf("ICBENCH_PRIVACY_Q: %q: want fluff probabilities in (0, 1]", f)
			}
			qs = append(qs, q)
		}
	}
	const sets = 200 // spy sets drawn per fraction
	fractions := []float64{0.05, 0.10, 0.30}
	settings := append([]float64{0}, qs...)
	// Each setting's row is logged, and the table file rewritten, as soon
	// as it is done: a long run stopped early keeps what it measured.
	var md strings.Builder
	lines := map[float64]string{} // the plot's rows, by q
	md.WriteString("| setting | precision, p = 5% | p = 10% | p = 30% | delivered | p50 ms | p95 ms | p99 ms | p50 cost ms | fail-safes (origin + relay) | loops |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	header := "# q\tp05_mean\tp05_lo\tp05_hi\tp10_mean\tp10_lo\tp10_hi\tp30_mean\tp30_lo\tp30_hi\tp50_ms\tcost_ms\n"
	var base time.Duration
	for _, q := range settings {
		ok := t.Run(fmt.Sprintf("q=%.2f", q), func(t *testing.T) {
			cpu0 := cpuTime()
			r := runPrivacy(t, n, count, q)
			t.Logf("%s: %s; stem totals %+v (CPU %s)", r.setting, r.res, r.stats, (cpuTime() - cpu0).Round(time.Second))
			if q == 0 {
				base = r.res.P50
			}
			row, line := r.row(fractions, sets, base)
			md.WriteString(row)
			lines[q] = line
			t.Logf("\n%s", row)
		})
		if !ok {
			t.Fatal("a setting failed")
		}
		if out := os.Getenv("ICBENCH_PRIVACY_OUT"); out != "" {
			tsv := header
			for _, q := range slices.Sorted(maps.Keys(lines)) {
				tsv += lines[q]
			}
			if err := os.WriteFile(out, []byte(tsv), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("N = %d, %d messages per setting at 1/s, %d spy sets per fraction (precision: mean, and 5th–95th percentile over spy sets)\n%s", n, count, sets, md.String())
}
