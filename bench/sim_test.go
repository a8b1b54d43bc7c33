//go:build simulation

package bench

import (
	"context"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/x/simlibp2p"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// The simulation: the same comparison as the Swarm tables on go-libp2p's
// simulated network (x/simlibp2p: QUIC over github.com/marcopolo/simnet
// links), inside a testing/synctest bubble, so that time is virtual and
// thousands of peers fit on this machine. Latencies are then the network's
// alone (CPU time does not advance the bubble's clock); CPU per delivery is
// still real. It is not a CI test: run it with
//
//	ICBENCH_SIM=1000,3000 go test -tags simulation -run TestSimulation -v -timeout 60m ./bench/
//
// It needs github.com/marcopolo/simnet (which x/simlibp2p imports) listed
// in go.mod: go get github.com/marcopolo/simnet@v0.0.7 (hence the build
// tag: without it the package builds with go.mod as it is).
//
// (docs/BENCHMARKS.md, "Simulation").

// Links: 20 Mbit/s each way; one-way latency 20 to 50 ms, fixed per pair of
// peers.
const (
	simBandwidth  = 20 * simlibp2p.OneMbps
	simLatencyMin = 20 * time.Millisecond
	simLatencyMax = 50 * time.Millisecond
)

// simLatency is a simlibp2p.LatencyFunc: a delay per (from, to) pair drawn
// from a hash of the two addresses. simlibp2p.LatencyFunc takes a
// *simnet.Packet, and github.com/marcopolo/simnet is not a requirement of
// this module (it comes with go-libp2p), so the function is made by
// reflection instead of naming the type.
func simLatency() simlibp2p.LatencyFunc {
	typ := reflect.TypeFor[simlibp2p.LatencyFunc]()
	fn := reflect.MakeFunc(typ, func(args []reflect.Value) []reflect.Value {
		pkt := args[0].Elem()
		from, _ := pkt.FieldByName("From").Interface().(net.Addr)
		to, _ := pkt.FieldByName("To").Interface().(net.Addr)
		a, b := addrString(from), addrString(to)
		if a > b {
			a, b = b, a
		}
		h := fnv.New64a()
		h.Write([]byte(a))
		h.Write([]byte(b))
		d := simLatencyMin + time.Duration(h.Sum64()%uint64(simLatencyMax-simLatencyMin))
		return []reflect.Value{reflect.ValueOf(d)}
	})
	return fn.Interface().(simlibp2p.LatencyFunc)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// simNetwork builds n hosts on a simulated network; stop closes the
// network (the hosts first, by whoever owns them). The hosts are
// go-libp2p's blank hosts, or with basic set, its full basic hosts: those
// open a stream to a peer known to speak the protocol without waiting for
// the negotiation (as the node's real hosts do), where a blank host waits
// a round trip.
func simNetwork(t *testing.T, n int, basic bool) ([]host.Host, func()) {
	var ls simlibp2p.NodeLinkSettingsAndCount
	ls.Count = n
	ls.LinkSettings.Downlink.BitsPerSecond = simBandwidth
	ls.LinkSettings.Uplink.BitsPerSecond = simBandwidth
	nw, meta, err := simlibp2p.SimpleLibp2pNetwork([]simlibp2p.NodeLinkSettingsAndCount{ls}, simLatency(),
		simlibp2p.NetworkSettings{UseBlankHost: !basic})
	if err != nil {
		t.Fatal(err)
	}
	nw.Start()
	// The swarms close their hosts; stop closes the network after them.
	return meta.Nodes, func() { nw.Close() }
}

// simSwarm is a Swarm over simulated hosts.
type simSwarm struct {
	Swarm
	stop func()
}

func (s simSwarm) Close() error {
	err := s.Swarm.Close()
	s.stop()
	return err
}

func newSimRaw(ctx context.Context, t *testing.T, n, size int, seed uint64) (Swarm, error) {
	hosts, stop := simNetwork(t, n, false)
	s := &RawSwarm{payloadSize: size, hosts: hosts}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	for i, h := range hosts {
		tr := &tracer{onSend: s.onSend(i)}
		ps, err := pubsub.NewGossipSub(life, h, pubsub.WithRawTracer(tr))
		if err != nil {
			simSwarm{s, stop}.Close()
			return nil, err
		}
		s.tracers = append(s.tracers, tr)
		top, err := ps.Join(rawTopics[0])
		if err != nil {
			simSwarm{s, stop}.Close()
			return nil, err
		}
		sub, err := top.Subscribe(pubsub.WithBufferSize(1024))
		if err != nil {
			simSwarm{s, stop}.Close()
			return nil, err
		}
		s.topics = append(s.topics, []*pubsub.Topic{top})
		s.wg.Go(func() { s.read(life, i, 0, sub) })
	}
	sw := simSwarm{s, stop}
	if err := connect(ctx, hosts, seed); err != nil {
		sw.Close()
		return nil, err
	}
	if err := awaitMeshes(ctx, localMeshes(hosts, s.tracers, rawTopics[:1]), rawTopics[:1], 10*time.Minute); err != nil {
		sw.Close()
		return nil, err
	}
	return sw, nil
}

// simOptions vary the simulated intentcast swarm.
type simOptions struct {
	NoStem bool
	// FluffProbability is each node's node.Config.StemFluffProbability
	// (zero: the default).
	FluffProbability float64
	// Tracer, if set, wraps each node's tracer, in node order (the
	// privacy simulation's spies).
	Tracer func(*tracer) pubsub.RawTracer
	// BasicHosts runs the nodes on full basic hosts (simNetwork).
	BasicHosts bool
}

func newSimIntentcast(ctx context.Context, t *testing.T, n int, seed uint64, o simOptions) (Swarm, *ICSwarm, error) {
	hosts, stop := simNetwork(t, n, o.BasicHosts)
	s := &ICSwarm{minWork: DefaultMinWork, hosts: hosts, system: Intentcast}
	if o.NoStem {
		s.system = IntentcastNoStem
	}
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	dir := t.TempDir()
	s.dataDir = dir
	for i, h := range hosts {
		tr := &tracer{onSend: s.onSend(i)}
		var nodeTracer pubsub.RawTracer = tr
		if o.Tracer != nil {
			nodeTracer = o.Tracer(tr)
		}
		nd, err := node.New(ctx, node.Config{
			Host: h, Tracer: nodeTracer, DisableMDNS: true,
			Categories:  []string{benchCategory},
			Policy:      intent.Policy{MinWork: DefaultMinWork, MinOfferWork: DefaultMinWork},
			Logger:      quietLogger,
			DataDir:     s.nodeDir(i),
			DisableStem: o.NoStem,

			StemFluffProbability: o.FluffProbability,
		})
		if err != nil {
			simSwarm{s, stop}.Close()
			return nil, nil, err
		}
		s.tracers = append(s.tracers, tr)
		s.nodes = append(s.nodes, nd)
		s.wg.Go(func() { s.read(life, i, nd) })
	}
	sw := simSwarm{s, stop}
	topics := []string{intent.IntentTopic(benchCategory), intent.OfferTopic(benchCategory)}
	if err := connect(ctx, hosts, seed); err != nil {
		sw.Close()
		return nil, nil, err
	}
	if err := awaitMeshes(ctx, localMeshes(hosts, s.tracers, topics), topics, 10*time.Minute); err != nil {
		sw.Close()
		return nil, nil, err
	}
	return sw, s, nil
}

func TestSimulation(t *testing.T) {
	spec := os.Getenv("ICBENCH_SIM")
	if spec == "" {
		t.Skip("set ICBENCH_SIM to the sizes to simulate, e.g. ICBENCH_SIM=1000,3000")
	}
	var sizes []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("ICBENCH_SIM: %v", err)
		}
		sizes = append(sizes, n)
	}
	count := 50
	if c, err := strconv.Atoi(os.Getenv("ICBENCH_SIM_COUNT")); err == nil {
		count = c
	}
	size, err := SignedIntentSize()
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, n := range sizes {
		for _, system := range []string{Raw, IntentcastNoStem, Intentcast} {
			t.Run(fmt.Sprintf("%s/%d", system, n), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ctx := t.Context()
					cpu0 := cpuTime()
					var sw Swarm
					var err error
					if system == Raw {
						sw, err = newSimRaw(ctx, t, n, size, 1)
					} else {
						sw, _, err = newSimIntentcast(ctx, t, n, 1, simOptions{NoStem: system == IntentcastNoStem})
					}
					if err != nil {
						t.Fatal(err)
					}
					setupCPU := cpuTime() - cpu0
					res, err := RunLoad(ctx, sw, Load{Rate: 5, Count: count, Drain: time.Minute, Deadline: 5 * time.Second, Seed: 1})
					if cerr := sw.Close(); cerr != nil {
						t.Logf("close: %v", cerr)
					}
					if err != nil {
						t.Fatal(err)
					}
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					t.Logf("%s (setup CPU %s)", res, setupCPU.Round(time.Millisecond))
					rows = append(rows, fmt.Sprintf("| %d | %s | %.4f | %s | %s | %s | %s | %s / %s | %s | %.0f | %.2f | %s |",
						n, system, res.DeliveryRatio, msf(res.P50), msf(res.P95), msf(res.P99), msf(res.Max), msf(res.NetP50), msf(res.NetP99),
						usf(res.CPUPerDelivery), res.GossipBytesPerDelivery, float64(res.PeakHeapPerNode)/(1<<20), setupCPU.Round(time.Second)))
				})
			})
		}
	}
	t.Logf("\n| N | system | delivered | p50 ms | p95 ms | p99 ms | max ms | p50 / p99 from gossip start ms | CPU µs/delivery | bytes/delivery | heap MiB/node | setup CPU |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n%s", strings.Join(rows, "\n"))
}
