package bench

import (
	"fmt"
	"io"
	"math"
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

	if len(rep.Table) > 0 {
		p("#### Side by side: %d messages at %.0f/s from random peers; medians of %d runs", o.Count, o.Rate, o.Repeats)
		p("")
		p("Raw payloads are %d bytes, the size of the benchmark's signed intent. Latency is from the publish call to delivery at each other peer (and, in its own column, from the moment a peer first queued the message for gossip: the gossip part alone, without the publish path and the stem); CPU is the whole process's (user + system) over the run, divided by deliveries; bytes are the gossipsub RPCs sent (payloads and control), divided by deliveries; memory is the process's peak heap in use divided by N.", rep.IntentSize)
		p("")
		p("| N | system | delivered | p50 ms | p95 ms | p99 ms | max ms | p50 / p99 from gossip start ms | late > 1 s | msg/s | CPU µs/delivery | cores busy | bytes/delivery | heap MiB/node | publish call p50 / p99 ms |")
		p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, r := range rep.Table {
			for _, x := range []Result{r.Raw, r.RawPolicy, r.IC, r.Stem} {
				p("| %d | %s | %.4f | %s | %s | %s | %s | %s / %s | %.1f%% | %.1f | %s | %.2f | %.0f | %.2f | %s / %s |",
					r.N, x.System, x.DeliveryRatio, msf(x.P50), msf(x.P95), msf(x.P99), msf(x.Max), msf(x.NetP50), msf(x.NetP99), 100*x.Late, x.Throughput,
					usf(x.CPUPerDelivery), x.CoresUsed, x.GossipBytesPerDelivery, float64(x.PeakHeapPerNode)/(1<<20),
					msf(x.PublishCallP50), msf(x.PublishCallP99))
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
		p("#### Ratios intentcast / raw (same medians)")
		p("")
		p("Stem off is the like-for-like comparison of the gossip path (the targets); the stem's own cost is in the last columns.")
		p("")
		p("| N | p50 | p95 | p99 | CPU/delivery | bytes/delivery | heap/node | p99 ≤ %.2f | CPU ≤ %.2f | with the stem: p50 | p99 | CPU | / raw with intentcast's policy: p99 | CPU |", TargetP99, TargetCPU)
		p("|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|")
		for _, r := range rep.Table {
			a, b, c, d := r.IC, r.Raw, r.Stem, r.RawPolicy
			p99 := float64(a.P99) / float64(b.P99)
			cpu := float64(a.CPUPerDelivery) / float64(b.CPUPerDelivery)
			p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", r.N,
				ratio(float64(a.P50), float64(b.P50)), ratio(float64(a.P95), float64(b.P95)), ratio(float64(a.P99), float64(b.P99)),
				ratio(float64(a.CPUPerDelivery), float64(b.CPUPerDelivery)), ratio(a.GossipBytesPerDelivery, b.GossipBytesPerDelivery),
				ratio(float64(a.PeakHeapPerNode), float64(b.PeakHeapPerNode)), metMissed(p99 <= TargetP99), metMissed(cpu <= TargetCPU),
				ratio(float64(c.P50), float64(b.P50)), ratio(float64(c.P99), float64(b.P99)), ratio(float64(c.CPUPerDelivery), float64(b.CPUPerDelivery)),
				ratio(float64(a.P99), float64(d.P99)), ratio(float64(a.CPUPerDelivery), float64(d.CPUPerDelivery)))
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
		p("A rate is sustained when %.0f%% of (message, peer) pairs are delivered within 2 s of publication and the publisher keeps up (95%% of the offered rate). The rate starts at %.0f/s, doubles until it fails, then %d geometric bisection steps; each step offers %s of traffic.", SustainedOnTime*100, o.MaxRate.Start, o.MaxRate.Refine, o.MaxRate.Step)
		p("")
		p("| N | raw gossipsub msg/s | raw, intentcast's policy msg/s | intentcast (stem off) msg/s | ratio / raw | target ≥ %.2f | ratio / policy raw | steps (rate: on-time ratio) |", TargetRate)
		p("|---:|---:|---:|---:|---:|---|---:|---|")
		for i := 0; i+2 < len(rep.MaxRates); i += 3 {
			raw, pol, ic := rep.MaxRates[i], rep.MaxRates[i+1], rep.MaxRates[i+2]
			p("| %d | %s | %s | %s | %s | %s | %s | raw: %s<br>policy raw: %s<br>intentcast: %s |", raw.N, maxRateCell(raw), maxRateCell(pol), maxRateCell(ic),
				ratio(ic.Max, raw.Max), metMissed(raw.Max > 0 && ic.Max/raw.Max >= TargetRate), ratio(ic.Max, pol.Max), stepsCell(raw), stepsCell(pol), stepsCell(ic))
		}
		p("")
	}

	if len(rep.RoundTrips) > 0 {
		rt := rep.RoundTrips[0]
		p("#### Round trip: intent → first offer → accept")
		p("")
		p("%d intents at %.1f/s from random customers in a swarm of %d, %d vendors answering every intent; the customer accepts the first offer. Raw: the same exchange as payloads of the same sizes on two plain gossipsub topics. Intentcast: Publish (pre-minted), SendOffer on EventIntent, Accept on EventOffer, EventAccept at the vendor; every step stores its record durably before it sends.", rt.Intents, o.RoundTrip.Rate, rt.N, rt.Vendors)
		p("")
		p("| system | completed | first offer p50 / p95 / p99 / max ms | accept p50 / p95 / p99 / max ms | offers received | errors |")
		p("|---|---:|---|---|---:|---:|")
		for _, r := range rep.RoundTrips {
			p("| %s | %d/%d | %s / %s / %s / %s | %s / %s / %s / %s | %d | %d |", r.System, r.Accept.Count, r.Intents,
				msf(r.FirstOffer.P50), msf(r.FirstOffer.P95), msf(r.FirstOffer.P99), msf(r.FirstOffer.Max),
				msf(r.Accept.P50), msf(r.Accept.P95), msf(r.Accept.P99), msf(r.Accept.Max), r.Offers, r.Errors)
		}
		for _, a := range rep.RoundTrips[1:] {
			b := rep.RoundTrips[0]
			p("| ratio %s / raw | | %s / %s / %s | %s / %s / %s | | |", a.System,
				ratio(float64(a.FirstOffer.P50), float64(b.FirstOffer.P50)), ratio(float64(a.FirstOffer.P95), float64(b.FirstOffer.P95)), ratio(float64(a.FirstOffer.P99), float64(b.FirstOffer.P99)),
				ratio(float64(a.Accept.P50), float64(b.Accept.P50)), ratio(float64(a.Accept.P95), float64(b.Accept.P95)), ratio(float64(a.Accept.P99), float64(b.Accept.P99)))
		}
		p("")
	}

	if len(rep.Validation) > 0 {
		v := validationMedian(rep.Validation)
		p("#### Validation rate (median of %d)", len(rep.Validation))
		p("")
		p("%d distinct signed intents, each checked once per measurement.", v.Intents)
		p("")
		p("| check | 1 worker, intents/s | / Ed25519 | %d workers, intents/s | / Ed25519 |", v.Workers)
		p("|---|---:|---:|---:|---:|")
		p("| Ed25519 verify of the signed bytes (the floor) | %.0f | 1.00 | %.0f | 1.00 |", v.Ed25519, v.Ed25519Par)
		p("| intent.Parse + Validate | %.0f | %s | %.0f | %s |", v.ParseValidate, ratio(v.ParseValidate, v.Ed25519), v.ParseValidatePar, ratio(v.ParseValidatePar, v.Ed25519Par))
		p("| node's gossip validator (Node.CheckMessage) | %.0f | %s | %.0f | %s |", v.NodeCheck, ratio(v.NodeCheck, v.Ed25519), v.NodeCheckPar, ratio(v.NodeCheckPar, v.Ed25519Par))
		p("")
	}
	rep.targets(w)
}

func maxRateCell(m MaxRateResult) string {
	if m.Max == 0 {
		return fmt.Sprintf("< %.0f", m.Fail)
	}
	if m.Fail == 0 {
		return fmt.Sprintf("≥ %.0f", m.Max)
	}
	return fmt.Sprintf("%.0f", m.Max)
}

func stepsCell(m MaxRateResult) string {
	var parts []string
	for _, s := range m.Steps {
		parts = append(parts, fmt.Sprintf("%.0f: %.3f", s.Rate, s.Result.OnTimeRatio))
	}
	return strings.Join(parts, ", ")
}

// targets writes the targets table.
func (rep *Report) targets(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("#### Targets")
	p("")
	p("| target | measured | |")
	p("|---|---|---|")
	if len(rep.Table) > 0 {
		var worstP99, worstCPU, rawCores float64
		var p99s, cpus []string
		full := true
		for _, r := range rep.Table {
			rawCores = math.Max(rawCores, r.Raw.CoresUsed)
			a := float64(r.IC.P99) / float64(r.Raw.P99)
			c := float64(r.IC.CPUPerDelivery) / float64(r.Raw.CPUPerDelivery)
			worstP99, worstCPU = math.Max(worstP99, a), math.Max(worstCPU, c)
			p99s = append(p99s, fmt.Sprintf("%.2f", a))
			cpus = append(cpus, fmt.Sprintf("%.2f", c))
			full = full && r.IC.DeliveryRatio == 1 && r.Stem.DeliveryRatio == 1
		}
		p("| intentcast (stem off) p99 ≤ %.2f × raw at every N (raw under half the cores: it used at most %.2f of %d) | %s (N = %s) | %s |", TargetP99, rawCores, rep.Machine.NumCPU, strings.Join(p99s, ", "), sizesOf(rep.Table), metMissed(worstP99 <= TargetP99))
		p("| intentcast (stem off) CPU per delivery ≤ %.2f × raw | %s | %s |", TargetCPU, strings.Join(cpus, ", "), metMissed(worstCPU <= TargetCPU))
		var sp99, scpu []string
		for _, r := range rep.Table {
			sp99 = append(sp99, ratio(float64(r.Stem.P99), float64(r.Raw.P99)))
			scpu = append(scpu, ratio(float64(r.Stem.CPUPerDelivery), float64(r.Raw.CPUPerDelivery)))
		}
		p("| the same for intentcast as it ships (stem on) | p99 %s; CPU %s | the stem's price |", strings.Join(sp99, ", "), strings.Join(scpu, ", "))
		last := rep.Table[len(rep.Table)-1]
		if last.N >= 100 {
			p("| 100 nodes in one process on %d cores with full delivery | delivery %.4f (stem off), %.4f (stem on), %.4f (raw) at N = %d | %s |", rep.Machine.NumCPU, last.IC.DeliveryRatio, last.Stem.DeliveryRatio, last.Raw.DeliveryRatio, last.N, metMissed(full))
		} else {
			p("| 100 nodes in one process with full delivery | not run (largest N: %d) | |", last.N)
		}
	}
	for i := 0; i+2 < len(rep.MaxRates); i += 3 {
		raw, pol, ic := rep.MaxRates[i], rep.MaxRates[i+1], rep.MaxRates[i+2]
		ok := raw.Max > 0 && ic.Max/raw.Max >= TargetRate
		p("| sustained rate (stem off) ≥ %.2f × raw (N = %d) | %s (%s vs %s msg/s; %s × the policy raw's %s) | %s |", TargetRate, raw.N, ratio(ic.Max, raw.Max), maxRateCell(ic), maxRateCell(raw),
			ratio(ic.Max, pol.Max), maxRateCell(pol), metMissed(ok))
	}
	if len(rep.RoundTrips) > 2 {
		raw := rep.RoundTrips[0]
		for _, rt := range rep.RoundTrips[2:] {
			a := float64(rt.Accept.P50) / float64(raw.Accept.P50)
			p("| %s: intent → first offer → accept ≤ %.2f × raw (p50) | %.2f (p99 %s) | %s |", rt.System, TargetRoundTrip, a,
				ratio(float64(rt.Accept.P99), float64(raw.Accept.P99)), metMissed(a <= TargetRoundTrip))
		}
	}
	if len(rep.Validation) > 0 {
		v := validationMedian(rep.Validation)
		p("| validation ≥ %.2f × Ed25519 verify | Parse+Validate %.2f; node validator %.2f (1 worker), %.2f (%d workers) | %s |", TargetValidation,
			v.Efficiency(), v.NodeEfficiency(), v.NodeEfficiencyPar(), v.Workers, metMissed(v.NodeEfficiency() >= TargetValidation && v.Efficiency() >= TargetValidation))
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
	fmt.Fprintf(w, `<text x="%.0f" y="%.0f" fill="#555">medians of %d runs, %.0f msg/s; %s, %d cores</text>`+"\n", left, panelH+38, rep.Options.Repeats, rep.Options.Rate, rep.Machine.CPU, rep.Machine.NumCPU)
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
