// Command icbench runs intentcast beside raw go-libp2p-pubsub gossipsub, in
// one process or (-procs) a process per peer, and prints the tables of
// docs/BENCHMARKS.md.
//
//	go run ./bench/cmd/icbench -quick          # CI scale, about two minutes
//	go run ./bench/cmd/icbench -out docs/bench # the full run, about 20 minutes on 2 idle cores
//	go run ./bench/cmd/icbench -cpuprofile cpu.pprof  # profile intentcast under load
//	go run ./bench/cmd/icbench -procs          # a process per peer: one runtime and collector each
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/intentcast/intentcast/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "icbench:", err)
		os.Exit(1)
	}
}

func run() error {
	quick := flag.Bool("quick", false, "CI-scale run (N = 10, 25; one repeat) instead of the full run")
	out := flag.String("out", "", "also write results.md, results.json and swarm.svg into this directory")
	sizes := flag.String("sizes", "", "override the swarm sizes of the table, e.g. 10,25,50,100")
	repeats := flag.Int("repeats", 0, "override the repeats of every part (table runs per system and size, rate searches, round trips, validation)")
	rate := flag.Float64("rate", 0, "override the table's rate, messages/s")
	count := flag.Int("count", 0, "override the table's messages per run, at every size")
	maxRateSizes := flag.String("maxrate-sizes", "", "override the swarm sizes of the sustained-rate search, e.g. 100")
	systems := flag.String("systems", "", "run only these systems in the table, the sustained-rate search and the round trip: comma-separated raw, raw-policy, intentcast-nostem, intentcast")
	skip := flag.String("skip", "", "comma-separated parts to skip: table, ram, maxrate, roundtrip, validation")
	var prof profileOptions
	flag.StringVar(&prof.cpu, "cpuprofile", "", "instead of the suite, write a CPU profile of one load run of -profile-system to this file")
	flag.IntVar(&prof.n, "profile-n", 25, "with -cpuprofile: swarm size")
	flag.Float64Var(&prof.rate, "profile-rate", 200, "with -cpuprofile: messages/s")
	flag.IntVar(&prof.count, "profile-count", 1000, "with -cpuprofile: messages")
	flag.StringVar(&prof.system, "profile-system", "intentcast", "with -cpuprofile: intentcast, intentcast-nostem or raw")
	latencies := flag.String("latencies", "", "also write a line per message of every table run to this file (tab-separated; its send time is on GODEBUG=gctrace=1's clock)")
	flag.StringVar(&prof.block, "blockprofile", "", "with -cpuprofile: also write a blocking profile of the run")
	flag.StringVar(&prof.heap, "heapprofile", "", "with -cpuprofile: also write a profile of the heap live at the end of the run (before the swarm closes)")
	flag.BoolVar(&prof.hops, "hops", false, "with -cpuprofile: also print where the run's hops spent their time (sender, wire, receiver's validation, onward)")
	procs := flag.Bool("procs", false, "run every peer of the table, the sustained-rate search and the round trip as a process of its own (this binary with -child)")
	child := flag.Bool("child", false, "run one peer of a -procs swarm on standard input and output (started by icbench itself)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if *child {
		return bench.ChildMain(ctx, os.Stdin, os.Stdout)
	}
	if prof.cpu != "" {
		return profileRun(ctx, prof)
	}

	var err error
	o := bench.FullOptions()
	if *quick {
		o = bench.QuickOptions()
	}
	if *sizes != "" {
		if o.Sizes, err = parseSizes("-sizes", *sizes); err != nil {
			return err
		}
	}
	if *maxRateSizes != "" {
		if o.MaxRateSizes, err = parseSizes("-maxrate-sizes", *maxRateSizes); err != nil {
			return err
		}
	}
	for _, s := range strings.Split(*systems, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		system, ok := systemNames[s]
		if !ok {
			return fmt.Errorf("-systems: unknown system %q", s)
		}
		o.Systems = append(o.Systems, system)
	}
	if *procs {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("-procs: %w", err)
		}
		o.Procs.Command = []string{exe, "-child"}
	}
	if *repeats > 0 {
		o.Repeats, o.TargetRepeats = *repeats, *repeats
	}
	if *rate > 0 {
		o.Rate = *rate
	}
	if *count > 0 {
		o.Count = *count
	}
	for _, s := range strings.Split(*skip, ",") {
		switch strings.TrimSpace(s) {
		case "":
		case "table":
			o.Sizes, o.RAMSizes = nil, nil
		case "ram":
			o.RAMSizes = nil
		case "maxrate":
			o.MaxRateSizes = nil
		case "roundtrip":
			o.RoundTripN = 0
		case "validation":
			o.ValidationPool = 0
		default:
			return fmt.Errorf("-skip: unknown part %q", s)
		}
	}

	var latLog *bufio.Writer
	if *latencies != "" {
		f, err := os.Create(*latencies)
		if err != nil {
			return fmt.Errorf("-latencies: %w", err)
		}
		defer f.Close()
		latLog = bufio.NewWriter(f)
		if _, err := latLog.WriteString(bench.LatencyHeader); err != nil {
			return fmt.Errorf("-latencies: %w", err)
		}
		o.Latencies = latLog
	}
	rep, err := bench.Suite(ctx, o)
	if err != nil {
		return err
	}
	if latLog != nil {
		if err := latLog.Flush(); err != nil {
			return fmt.Errorf("-latencies: %w", err)
		}
	}
	var md bytes.Buffer
	rep.Markdown(&md)
	os.Stdout.Write(md.Bytes())
	if *out == "" {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{"results.md": md.Bytes(), "results.json": js}
	if len(rep.Table) > 0 { // the plot is the table's
		var svg bytes.Buffer
		rep.SVG(&svg)
		files["swarm.svg"] = svg.Bytes()
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "icbench: wrote %s\n", filepath.Join(*out, name))
	}
	return nil
}

// systemNames are -systems' names of the systems.
var systemNames = map[string]string{
	"raw": bench.Raw, "raw-policy": bench.RawPolicy, "intentcast-nostem": bench.IntentcastNoStem, "intentcast": bench.Intentcast,
}

// parseSizes parses a comma-separated list of swarm sizes given to flag.
func parseSizes(flag, list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return nil, fmt.Errorf("%s: %q is not a swarm size", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// profileOptions are the flags of a -cpuprofile run.
type profileOptions struct {
	cpu, block, heap string // where the profiles go; block and heap only if set
	hops             bool   // also print where the hops spent their time
	system           string // intentcast, intentcast-nostem or raw
	n, count         int    // swarm size, messages
	rate             float64
}

// profileRun profiles one load run of one system.
func profileRun(ctx context.Context, o profileOptions) error {
	var sw bench.Swarm
	var err error
	switch o.system {
	case "intentcast", "intentcast-nostem":
		sw, err = bench.NewICSwarmWith(ctx, o.n, 1, bench.ICOptions{MinWork: bench.DefaultMinWork, NoStem: o.system == "intentcast-nostem"})
	case "raw":
		size, serr := bench.SignedIntentSize()
		if serr != nil {
			return serr
		}
		sw, err = bench.NewRawSwarm(ctx, o.n, 1, size, 1)
	default:
		return fmt.Errorf("-profile-system: %q is not intentcast, intentcast-nostem or raw", o.system)
	}
	if err != nil {
		return err
	}
	defer sw.Close()
	f, err := os.Create(o.cpu)
	if err != nil {
		return err
	}
	defer f.Close()
	// The meshes have settled (the constructors await them); the pause
	// lets the start-up's own work (identify, the first heartbeats) end
	// before the profile starts.
	time.Sleep(2 * time.Second)
	if o.block != "" {
		runtime.SetBlockProfileRate(int(100 * time.Microsecond))
		runtime.SetMutexProfileFraction(10)
	}
	load := bench.Load{Rate: o.rate, Count: o.count, Drain: 10 * time.Second, Seed: 1, Profile: f}
	if o.hops {
		load.Hops = new(bench.HopLog)
	}
	res, err := bench.RunLoad(ctx, sw, load)
	if err != nil {
		return err
	}
	if o.block != "" {
		for _, kind := range []string{"block", "mutex"} {
			if err := writeProfile(o.block+"."+kind, kind); err != nil {
				return err
			}
		}
	}
	if o.heap != "" {
		runtime.GC() // what the swarm keeps, not what it churned
		if err := writeProfile(o.heap, "heap"); err != nil {
			return err
		}
	}
	fmt.Println(res)
	fmt.Printf("publish call p50 %s p99 %s; dropped RPCs %d, throttled %d, publish errors %d %s\n",
		res.PublishCallP50, res.PublishCallP99, res.DroppedRPCs, res.Throttled, res.PublishErrors, res.FirstError)
	if load.Hops != nil {
		for _, s := range load.Hops.Segments() {
			fmt.Println(s)
		}
	}
	return nil
}

// writeProfile writes the runtime's profile kind (block, mutex, heap) to
// path.
func writeProfile(path, kind string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(kind).WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("%s profile: %w", kind, err)
	}
	return f.Close()
}
