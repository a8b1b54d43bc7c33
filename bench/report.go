package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }
func mib(b uint64) string       { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

func msf(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/1e6) }
func usf(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/1e3) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// Targets the project aims at (docs/BENCHMARKS.md).
const (
	TargetP99        = 1.25 // intentcast p99 / raw p99, at every N
	TargetCPU        = 1.35 // intentcast CPU per delivery / raw
	TargetRate       = 0.75 // intentcast sustained rate / raw
	TargetValidation = 0.85 // validation rate / Ed25519 verify rate
	TargetRoundTrip  = 1.5  // intentcast accept latency / raw
)

func metMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// validationMedian takes the median of each rate over the repeats.
func validationMedian(vs []ValidationResult) ValidationResult {
	if len(vs) == 0 {
		return ValidationResult{}
	}
	m := vs[0]
	f := func(get func(ValidationResult) float64) float64 {
		xs := make([]float64, len(vs))
		for i, v := range vs {
			xs[i] = get(v)
		}
		return median(xs)
	}
	m.Ed25519 = f(func(v ValidationResult) float64 { return v.Ed25519 })
	m.ParseValidate = f(func(v ValidationResult) float64 { return v.ParseValidate })
	m.NodeCheck = f(func(v ValidationResult) float64 { return v.NodeCheck })
	m.Ed25519Par = f(func(v ValidationResult) float64 { return v.Ed25519Par })
	m.ParseValidatePar = f(func(v ValidationResult) float64 { return v.ParseValidatePar })
	m.NodeCheckPar = f(func(v ValidationResult) float64 { return v.NodeCheckPar })
	return m
}

// Markdown writes the report's tables.
func (rep *Report) Markdown(w io.Writer) {
	o := rep.Options
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	m := rep.Machine
	p("Run of %s: %s, %d cores (GOMAXPROCS %d), %s %s; load average %s before, %s after; %s in all.",
		rep.Started.UTC().Format("2006-01-02 15:04 MST"), m.CPU, m.NumCPU, m.GOMAXPROCS, m.Go, m.OS,
		m.LoadBefore, m.LoadAfter, rep.Elapsed.Round(time.Second))
	p("")
	if rep.Procs {
		p("Every peer of the side-by-side table, the sustained-rate search and the round trip ran as a process of its own (icbench -procs): one Go runtime, heap and collector per peer, as deployed nodes run. CPU is the peers' processes' (user + system), summed; memory is their peak heaps summed, divided by N; \"waits for a P\" is the median of the peers' 99th percentiles.")
		p("")
	}

	if len(rep.Table) > 0 {
		p("#### Side by side: %d messages at %.0f/s from random peers at every size; medians of %s (p99 and CPU with their range over the runs)", o.Count, o.Rate, o.tableRuns())
		p("")
		p("Raw payloads are %d bytes, the size of the benchmark's signed intent. Latency is from the publish call to delivery at each other peer (and, in its own columns, from the moment a peer first queued the message for gossip: the gossip part alone, without the publish path and the stem; and up to the receiving peer's router handing the message to its subscriptions, before the peer's own handling: for intentcast the node's reader and its event); CPU is the whole process's (user + system) over the run, divided by deliveries; bytes are the gossipsub RPCs sent (payloads and control), divided by deliveries; memory is the process's peak heap in use divided by N; allocated is every byte the process allocated over the run divided by deliveries, and collections the garbage-collection cycles completed in the run (each cycle's mark takes a quarter of the cores from every peer at once, so the p99 of a short run moves with how many fell in it).", rep.IntentSize)
		p("")
		p("| N | system | delivered | p50 ms | p95 ms | p99 ms | max ms | p50 / p99 from gossip start ms | p50 / p99 at the router ms | late > 1 s | msg/s | CPU µs/delivery | cores busy | bytes/delivery | heap MiB/node | allocated KiB/delivery | collections | publish call p50 / p99 ms |")
		p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, r := range rep.Table {
			for _, x := range []Result{r.Raw, r.RawPolicy, r.IC, r.Stem} {
				if x.System == "" {
					continue // not run (Options.Systems)
				}
				runs := r.Runs[x.System]
				p99 := spreadOf(figures(runs, func(y Result) float64 { return float64(y.P99) / 1e6 }))
				cpu := spreadOf(figures(runs, func(y Result) float64 { return float64(y.CPUPerDelivery) / 1e3 }))
				p("| %d | %s | %.4f | %s | %s | %s | %s | %s / %s | %s / %s | %.1f%% | %.1f | %s | %.2f | %.0f | %.2f | %.1f | %d | %s / %s |",
					r.N, x.System, x.DeliveryRatio, msf(x.P50), msf(x.P95), p99.format(fmt1), msf(x.Max), msf(x.NetP50), msf(x.NetP99), msf(x.RoutedP50), msf(x.RoutedP99), 100*x.Late, x.Throughput,
					cpu.format(fmt0), x.CoresUsed, x.GossipBytesPerDelivery, float64(x.PeakHeapPerNode)/(1<<20),
					x.AllocPerDelivery/1024, x.GCCycles, msf(x.PublishCallP50), msf(x.PublishCallP99))
			}
		}
		p("")
		if len(rep.RAM) > 0 {
			p("The same runs with the intentcast nodes' (stem off) stores on a tmpfs (%s), to separate the durable store's share: every node writes each intent it relays (live set and replay index, batched once a second) and each intent it publishes (with its keys, before broadcasting), and all the nodes of a run share one disk.", o.RAMDir)
			p("")
			p("| N | system | delivered | p50 ms | p95 ms | p99 ms | max ms | p99 from gossip start ms | CPU µs/delivery | p99 / raw | CPU / raw |")
			p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
			for _, x := range rep.RAM {
				for _, r := range rep.Table {
					if r.N != x.N {
						continue
					}
					for _, y := range []Result{r.Raw, r.IC, x} {
						if y.System == "" {
							continue
						}
						p("| %d | %s | %.4f | %s | %s | %s | %s | %s | %s | %s | %s |", y.N, y.System, y.DeliveryRatio,
							msf(y.P50), msf(y.P95), msf(y.P99), msf(y.Max), msf(y.NetP99), usf(y.CPUPerDelivery),
							ratio(float64(y.P99), float64(r.Raw.P99)), ratio(float64(y.CPUPerDelivery), float64(r.Raw.CPUPerDelivery)))
					}
				}
			}
			p("")
		}
		p("#### Ratios intentcast / raw")
		p("")
		p("p99 and CPU per delivery: the median of the per-repeat ratios (repeat r of each system ran on the same topology and traffic), with their range; the other columns are ratios of the medians. Stem off is the like-for-like comparison of the gossip path (the targets); the stem's own cost is in the last columns but two, and the last two compare with raw gossipsub under intentcast's message policy, the floor without per-message signatures.")
		p("")
		p("| N | p50 | p95 | p99 | CPU/delivery | bytes/delivery | heap/node | p99 ≤ %.2f | CPU ≤ %.2f | with the stem: p99 | CPU | / policy raw: p99 | CPU |", TargetP99, TargetCPU)
		p("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|")
		for _, r := range rep.Table {
			a, b := r.IC, r.Raw
			p99, cpu := r.ratio(IntentcastNoStem, Raw, resultP99), r.ratio(IntentcastNoStem, Raw, resultCPU)
			p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", r.N,
				ratio(float64(a.P50), float64(b.P50)), ratio(float64(a.P95), float64(b.P95)), p99,
				cpu, ratio(a.GossipBytesPerDelivery, b.GossipBytesPerDelivery),
				ratio(float64(a.PeakHeapPerNode), float64(b.PeakHeapPerNode)), metMissed(p99.Med <= TargetP99), metMissed(cpu.Med <= TargetCPU),
				r.ratio(Intentcast, Raw, resultP99), r.ratio(Intentcast, Raw, resultCPU),
				r.ratio(IntentcastNoStem, RawPolicy, resultP99), r.ratio(IntentcastNoStem, RawPolicy, resultCPU))
		}
		p("")
		if rep.MintCPU > 0 {
			p("Minting is not in the timed phase: each intent was made before it (fresh Ed25519 and X25519 keys, %d bits of work, signature) at a median %s of CPU per intent.", o.MinWork, us(rep.MintCPU))
			p("")
		}
	}

	if len(rep.MaxRates) > 0 {
		p("#### Highest sustained rate")
		p("")
		p("A rate is sustained when %.0f%% of (message, peer) pairs are delivered within 2 s of publication and the publisher keeps up (95%% of the offered rate). The rate starts at %.0f/s × 25 / N (later searches: at the first search's result), doubles until it fails, then %d geometric bisection steps (the rate within a factor %.3f); each step offers %s of traffic. One swarm per system and size, searched %d times: medians (range); the ratios are per search, paired by repeat. Every step is in results.json.", SustainedOnTime*100, o.MaxRate.Start, o.MaxRate.Refine, math.Pow(o.MaxRate.Factor, 1/math.Pow(2, float64(o.MaxRate.Refine))), o.MaxRate.Step, max(o.Repeats, 1))
		p("")
		p("| N | raw gossipsub msg/s | raw, intentcast's policy msg/s | intentcast (stem off) msg/s | ratio / raw | target ≥ %.2f | ratio / policy raw |", TargetRate)
		p("|---:|---:|---:|---:|---:|---|---:|")
		for _, n := range rep.maxRateSizes() {
			by := rep.maxRatesBy(n)
			rr := ratios(by[IntentcastNoStem], by[Raw], maxRate)
			p("| %d | %s | %s | %s | %s | %s | %s |", n, maxRateSpread(by[Raw]), maxRateSpread(by[RawPolicy]), maxRateSpread(by[IntentcastNoStem]),
				spreadOf(rr), metMissed(len(rr) > 0 && spreadOf(rr).Med >= TargetRate), spreadOf(ratios(by[IntentcastNoStem], by[RawPolicy], maxRate)))
		}
		p("")
	}

	if len(rep.RoundTrips) > 0 {
		rt := rep.RoundTrips[0]
		by := rep.roundTripsBy()
		p("#### Round trip: intent → first offer → accept")
		p("")
		p("%d intents at %.1f/s from random customers in a swarm of %d, %d vendors answering every intent; the customer accepts the first offer. Raw: the same exchange as payloads of the same sizes on two plain gossipsub topics. Intentcast: Publish (pre-minted), SendOffer on EventIntent, Accept on EventOffer, EventAccept at the vendor; every step stores its record durably before it sends. Offers received counts the offers the customers opened: intentcast's stop at the accept, which closes the intent (a vendor that has seen the closure does not offer, and the customer's node ignores offers to an intent no longer live), so its count falls as the accept comes sooner; raw has no closure. %d repeats per system, each on a fresh swarm: medians (range) of the per-repeat figures; the ratios are per repeat.", rt.Intents, o.RoundTrip.Rate, rt.N, rt.Vendors, len(by[Raw]))
		p("")
		p("| system | completed | first offer p50 ms | first offer p99 ms | accept p50 ms | accept p99 ms | offers received | errors | accept p50 / raw | accept p50 / policy raw |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, system := range []string{Raw, RawPolicy, IntentcastNoStem, Intentcast} {
			rs := by[system]
			if len(rs) == 0 {
				continue
			}
			var done, intents, offers, errs int64
			for _, r := range rs {
				done, intents, offers, errs = done+int64(r.Accept.Count), intents+int64(r.Intents), offers+r.Offers, errs+r.Errors
			}
			lat := func(get func(RoundTripResult) time.Duration) string {
				return spreadOf(figures(rs, func(r RoundTripResult) float64 { return float64(get(r)) / 1e6 })).format(fmt1)
			}
			p("| %s | %d/%d | %s | %s | %s | %s | %d | %d | %s | %s |", system, done, intents,
				lat(func(r RoundTripResult) time.Duration { return r.FirstOffer.P50 }), lat(func(r RoundTripResult) time.Duration { return r.FirstOffer.P99 }),
				lat(func(r RoundTripResult) time.Duration { return r.Accept.P50 }), lat(func(r RoundTripResult) time.Duration { return r.Accept.P99 }),
				offers, errs, spreadOf(ratios(rs, by[Raw], acceptP50)), spreadOf(ratios(rs, by[RawPolicy], acceptP50)))
		}
		p("")
		p("Where the time goes: each intent's round trip in steps, p50 over the intents of a repeat, then medians (range) over the repeats, ms. The steps' p50s need not add up to the accept p50.")
		p("")
		p("| system | intent reaches the first vendor | its first offer reaches the customer (the vendor's making of it included) | the customer's accept call | the accept reaches the vendor |")
		p("|---|---:|---:|---:|---:|")
		for _, system := range []string{Raw, RawPolicy, IntentcastNoStem, Intentcast} {
			rs := by[system]
			if len(rs) == 0 {
				continue
			}
			leg := func(get func(Legs) time.Duration) string {
				return spreadOf(figures(rs, func(r RoundTripResult) float64 { return float64(get(r.Legs)) / 1e6 })).format(fmt1)
			}
			p("| %s | %s | %s | %s | %s |", system, leg(func(l Legs) time.Duration { return l.Intent }), leg(func(l Legs) time.Duration { return l.Offer }),
				leg(func(l Legs) time.Duration { return l.AcceptCall }), leg(func(l Legs) time.Duration { return l.AcceptTravel }))
		}
		p("")
	}

	if len(rep.Validation) > 0 {
		v := validationMedian(rep.Validation)
		vs := rep.Validation
		p("#### Validation rate (median of %d)", len(vs))
		p("")
		p("%d distinct signed intents, each checked once per measurement, the three checks interleaved in chunks of %d. With 1 worker the rates are per second of process CPU time (less disturbed by other load than wall time); with %d workers per second of wall time (how the checks scale). The ratios are per repeat: median (range).", v.Intents, validationChunk, v.Workers)
		p("")
		p("| check | 1 worker, intents per CPU-s | / Ed25519 | %d workers, intents/s | / Ed25519 |", v.Workers)
		p("|---|---:|---:|---:|---:|")
		p("| Ed25519 verify of the signed bytes (the floor) | %.0f | 1.00 | %.0f | 1.00 |", v.Ed25519, v.Ed25519Par)
		p("| intent.Parse + Validate | %.0f | %s | %.0f | %s |", v.ParseValidate, valRatio(vs, func(v ValidationResult) float64 { return v.Efficiency() }), v.ParseValidatePar,
			valRatio(vs, func(v ValidationResult) float64 { return v.ParseValidatePar / v.Ed25519Par }))
		p("| node's gossip validator (Node.CheckMessage) | %.0f | %s | %.0f | %s |", v.NodeCheck, valRatio(vs, ValidationResult.NodeEfficiency), v.NodeCheckPar, valRatio(vs, ValidationResult.NodeEfficiencyPar))
		p("")
	}
	rep.targets(w)
}

// targets writes the targets table: each figure is the median of the
// per-repeat ratios, with their range.
func (rep *Report) targets(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	join := func(ss []spread) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.String())
		}
		return strings.Join(out, "; ")
	}
	p("#### Targets")
	p("")
	p("Medians of the per-repeat ratios (range); the second figure of each row is the same against raw gossipsub with intentcast's message policy.")
	p("")
	p("| target | measured | against the policy raw | |")
	p("|---|---|---|---|")
	if len(rep.Table) > 0 {
		var p99s, cpus, p99p, cpup, sp99, scpu []spread
		var rawCores float64
		okP99, okCPU, full := true, true, true
		for _, r := range rep.Table {
			rawCores = math.Max(rawCores, r.Raw.CoresUsed)
			a, c := r.ratio(IntentcastNoStem, Raw, resultP99), r.ratio(IntentcastNoStem, Raw, resultCPU)
			okP99, okCPU = okP99 && a.Med <= TargetP99, okCPU && c.Med <= TargetCPU
			p99s, cpus = append(p99s, a), append(cpus, c)
			p99p, cpup = append(p99p, r.ratio(IntentcastNoStem, RawPolicy, resultP99)), append(cpup, r.ratio(IntentcastNoStem, RawPolicy, resultCPU))
			sp99, scpu = append(sp99, r.ratio(Intentcast, Raw, resultP99)), append(scpu, r.ratio(Intentcast, Raw, resultCPU))
			for _, x := range []Result{r.IC, r.Stem} {
				full = full && (x.System == "" || x.DeliveryRatio == 1) // "": not run
			}
		}
		p("| intentcast (stem off) p99 ≤ %.2f × raw at N = %s (raw used at most %.2f of %d cores: below saturation) | %s | %s | %s |", TargetP99, sizesOf(rep.Table), rawCores, rep.Machine.NumCPU, join(p99s), join(p99p), metMissed(okP99))
		p("| intentcast (stem off) CPU per delivery ≤ %.2f × raw at N = %s | %s | %s | %s |", TargetCPU, sizesOf(rep.Table), join(cpus), join(cpup), metMissed(okCPU))
		p("| the same for intentcast as it ships (stem on) | p99 %s; CPU %s | | the stem's price |", join(sp99), join(scpu))
		last := rep.Table[len(rep.Table)-1]
		if last.N >= 100 {
			where := "in one process"
			if rep.Procs {
				where = "each a process of its own,"
			}
			var ds []string
			for _, x := range []Result{last.IC, last.Stem, last.Raw} {
				if x.System != "" {
					ds = append(ds, fmt.Sprintf("%.4f (%s)", x.DeliveryRatio, x.System))
				}
			}
			p("| 100 nodes %s on %d cores with full delivery | delivery %s at N = %d | | %s |", where, rep.Machine.NumCPU, strings.Join(ds, ", "), last.N, metMissed(full))
		}
	}
	for _, n := range rep.maxRateSizes() {
		by := rep.maxRatesBy(n)
		a, b := spreadOf(ratios(by[IntentcastNoStem], by[Raw], maxRate)), spreadOf(ratios(by[IntentcastNoStem], by[RawPolicy], maxRate))
		if a.Count == 0 {
			continue // a system was not run (-systems): no verdict
		}
		p("| sustained rate (stem off) ≥ %.2f × raw (N = %d) | %s (%s vs %s msg/s) | %s | %s |", TargetRate, n, a,
			maxRateSpread(by[IntentcastNoStem]), maxRateSpread(by[Raw]), b, metMissed(a.Med >= TargetRate))
	}
	if by := rep.roundTripsBy(); len(by[Raw]) > 0 {
		for _, system := range []string{IntentcastNoStem, Intentcast} {
			a := spreadOf(ratios(by[system], by[Raw], acceptP50))
			if a.Count == 0 {
				continue // not run (-systems): no verdict
			}
			p("| %s: intent → first offer → accept ≤ %.2f × raw (p50) | %s | %s | %s |", system, TargetRoundTrip, a,
				spreadOf(ratios(by[system], by[RawPolicy], acceptP50)), metMissed(a.Med <= TargetRoundTrip))
		}
	}
	if vs := rep.Validation; len(vs) > 0 {
		node := valRatio(vs, ValidationResult.NodeEfficiency)
		p("| node's validator ≥ %.2f × Ed25519 verify (1 worker, CPU time) | %s (Parse + Validate alone %s; %d workers, wall time: %s) | | %s |", TargetValidation,
			node, valRatio(vs, ValidationResult.Efficiency), vs[0].Workers, valRatio(vs, ValidationResult.NodeEfficiencyPar), metMissed(node.Med >= TargetValidation))
	}
	p("")
}

func sizesOf(rows []Row) string {
	var s []string
	for _, r := range rows {
		s = append(s, fmt.Sprint(r.N))
	}
	return strings.Join(s, ", ")
}

// SVG writes the plot: p99 latency and CPU per delivered message against N,
// both systems, from the table's medians.
func (rep *Report) SVG(w io.Writer) {
	const (
		panelW, panelH = 420.0, 300.0
		left, top      = 60.0, 40.0
		plotW, plotH   = 330.0, 200.0
	)
	colors := map[string]string{Raw: "#1f77b4", IntentcastNoStem: "#ff7f0e", Intentcast: "#d62728"}
	pick := func(r Row, system string) Result {
		switch system {
		case IntentcastNoStem:
			return r.IC
		case Intentcast:
			return r.Stem
		}
		return r.Raw
	}
	systems := []string{Raw, IntentcastNoStem, Intentcast}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", 2*panelW, panelH+45)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	panels := []struct {
		title string
		unit  string
		get   func(Result) float64
	}{
		{"p99 publish-to-deliver latency", "ms", func(r Result) float64 { return float64(r.P99) / 1e6 }},
		{"CPU per delivered message", "µs", func(r Result) float64 { return float64(r.CPUPerDelivery) / 1e3 }},
	}
	ns := make([]float64, len(rep.Table))
	for i, r := range rep.Table {
		ns[i] = float64(r.N)
	}
	for pi, panel := range panels {
		ox := float64(pi) * panelW
		var ymax float64
		for _, r := range rep.Table {
			for _, system := range systems {
				ymax = math.Max(ymax, panel.get(pick(r, system)))
			}
		}
		ymax = niceCeil(ymax)
		// x: log scale over N.
		xmin, xmax := math.Log(ns[0]), math.Log(ns[len(ns)-1])
		if xmax == xmin {
			xmax = xmin + 1
		}
		x := func(n float64) float64 { return ox + left + (math.Log(n)-xmin)/(xmax-xmin)*plotW }
		y := func(v float64) float64 { return top + plotH - v/ymax*plotH }
		fmt.Fprintf(w, `<text x="%.0f" y="20" font-size="14" font-weight="bold">%s (%s)</text>`+"\n", ox+left, panel.title, panel.unit)
		// Axes and grid.
		for i := 0; i <= 4; i++ {
			v := ymax * float64(i) / 4
			fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", ox+left, y(v), ox+left+plotW, y(v))
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", ox+left-6, y(v)+4, trimFloat(v))
		}
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", ox+left, top+plotH, ox+left+plotW, top+plotH)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", ox+left, top, ox+left, top+plotH)
		for _, n := range ns {
			fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%.0f</text>`+"\n", x(n), top+plotH+16, n)
		}
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">peers (N, log scale)</text>`+"\n", ox+left+plotW/2, top+plotH+34)
		for _, system := range systems {
			var pts []string
			for _, r := range rep.Table {
				res := pick(r, system)
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(r.N)), y(panel.get(res))))
				fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(float64(r.N)), y(panel.get(res)), colors[system])
				fmt.Fprintf(w, `<text x="%.1f" y="%.1f" font-size="10" fill="%s">%s</text>`+"\n", x(float64(r.N))+4, y(panel.get(res))-5, colors[system], trimFloat(panel.get(res)))
			}
			fmt.Fprintf(w, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), colors[system])
		}
	}
	// Legend.
	for i, system := range systems {
		lx := left + float64(i)*170
		fmt.Fprintf(w, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="3"/>`+"\n", lx, panelH+15, lx+24, panelH+15, colors[system])
		fmt.Fprintf(w, `<text x="%.0f" y="%.0f">%s</text>`+"\n", lx+30, panelH+19, system)
	}
	fmt.Fprintf(w, `<text x="%.0f" y="%.0f" fill="#555">medians of %s, %.0f msg/s; %s, %d cores</text>`+"\n", left, panelH+38, rep.Options.tableRuns(), rep.Options.Rate, rep.Machine.CPU, rep.Machine.NumCPU)
	fmt.Fprintln(w, `</svg>`)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	if v >= 100 || v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	if v >= 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Figures of one run, for ratios and spreads.
func resultP99(r Result) float64          { return float64(r.P99) }
func resultCPU(r Result) float64          { return float64(r.CPUPerDelivery) }
func maxRate(m MaxRateResult) float64     { return m.Max }
func acceptP50(r RoundTripResult) float64 { return float64(r.Accept.P50) }

func fmt0(v float64) string { return fmt.Sprintf("%.0f", v) }
func fmt1(v float64) string { return fmt.Sprintf("%.1f", v) }

// ratio is the spread of system a's figure over system b's, per repeat.
func (r Row) ratio(a, b string, get func(Result) float64) spread {
	return spreadOf(ratios(r.Runs[a], r.Runs[b], get))
}

// maxRateSizes are the sizes searched, in order.
func (rep *Report) maxRateSizes() []int {
	var ns []int
	for _, m := range rep.MaxRates {
		if !slices.Contains(ns, m.N) {
			ns = append(ns, m.N)
		}
	}
	return ns
}

// maxRatesBy returns the searches at size n by system, in repeat order.
func (rep *Report) maxRatesBy(n int) map[string][]MaxRateResult {
	by := make(map[string][]MaxRateResult)
	for _, m := range rep.MaxRates {
		if m.N == n {
			by[m.System] = append(by[m.System], m)
		}
	}
	for _, ms := range by {
		slices.SortStableFunc(ms, func(a, b MaxRateResult) int { return a.Repeat - b.Repeat })
	}
	return by
}

// maxRateSpread formats the highest sustained rates of the searches.
func maxRateSpread(ms []MaxRateResult) string {
	if len(ms) == 0 {
		return "–"
	}
	s := spreadOf(figures(ms, maxRate)).format(fmt0)
	for _, m := range ms {
		if m.Max == 0 {
			s += fmt.Sprintf("; one search: < %.0f", m.Fail)
		} else if m.Fail == 0 {
			s += fmt.Sprintf("; one search: ≥ %.0f (the cap)", m.Max)
		}
	}
	return s
}

// roundTripsBy returns the round trips by system, in repeat order.
func (rep *Report) roundTripsBy() map[string][]RoundTripResult {
	by := make(map[string][]RoundTripResult)
	for _, r := range rep.RoundTrips {
		by[r.System] = append(by[r.System], r)
	}
	for _, rs := range by {
		slices.SortStableFunc(rs, func(a, b RoundTripResult) int { return a.Repeat - b.Repeat })
	}
	return by
}

// valRatio is the spread of a validation ratio over the repeats.
func valRatio(vs []ValidationResult, get func(ValidationResult) float64) spread {
	return spreadOf(figures(vs, get))
}
