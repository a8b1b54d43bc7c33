package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The systems compared.
const (
	Raw              = "raw gossipsub"
	RawPolicy        = "raw gossipsub, intentcast's policy" // StrictNoSign, no author, content-hash IDs
	Intentcast       = "intentcast"                         // as it ships: own intents leave through the stem phase
	IntentcastNoStem = "intentcast, stem off"               // own intents straight into gossip, as raw does
)

// Swarm is N peers of one system in this process, connected and with
// settled meshes, ready to carry a load.
type Swarm interface {
	// System is Raw or Intentcast.
	System() string
	// Size is the number of peers.
	Size() int
	// prepare makes count messages ready to publish (for intentcast:
	// minted and signed) and points the swarm's deliveries at rec. It
	// returns how much CPU time making the messages took.
	prepare(ctx context.Context, count int, rec *recorder) (time.Duration, error)
	// publish sends prepared message k from peer `from`.
	publish(ctx context.Context, from, k int) error
	// counters sums the routers' tracers.
	counters(ctx context.Context) routerCounters
	// Close stops every peer.
	Close() error
}

// now is the harness's timestamp: wall-clock nanoseconds, which inside a
// testing/synctest bubble (the simulation) are the bubble's virtual time.
func now() int64 { return time.Now().UnixNano() }

// recorder keeps, for one run, when each message was sent and when each
// peer delivered it. Each (message, peer) slot is written once.
type recorder struct {
	id       uint32 // tells this run's messages from a previous run's stragglers
	n, count int
	from     []int          // publisher of each message; its own delivery does not count
	sent     []atomic.Int64 // send time of each message; 0 until sent
	handed   []atomic.Int64 // when a peer first queued it for gossip
	got      []atomic.Int64 // k*n + peer -> delivery time; 0 until delivered
	routed   []atomic.Int64 // k*n + peer -> when its router delivered it, before the peer's own handling

	expected   int64
	deliveries atomic.Int64
	duplicates atomic.Int64
	last       atomic.Int64 // time of the latest delivery
	done       chan struct{}
	doneOnce   sync.Once
}

var recorderIDs atomic.Uint32

func newRecorder(n, count int, r *rand.Rand) *recorder {
	rec := &recorder{
		id: recorderIDs.Add(1), n: n, count: count,
		from: make([]int, count), sent: make([]atomic.Int64, count), handed: make([]atomic.Int64, count), got: make([]atomic.Int64, count*n), routed: make([]atomic.Int64, count*n),
		expected: int64(count) * int64(n-1), done: make(chan struct{}),
	}
	for k := range rec.from {
		rec.from[k] = r.IntN(n)
	}
	if rec.expected == 0 {
		close(rec.done)
	}
	return rec
}

// delivered records that peer delivered message k at time at.
func (r *recorder) delivered(peer, k int, at int64) {
	if k < 0 || k >= r.count || peer == r.from[k] {
		return
	}
	if !r.got[k*r.n+peer].CompareAndSwap(0, at) {
		r.duplicates.Add(1)
		return
	}
	for {
		last := r.last.Load()
		if at <= last || r.last.CompareAndSwap(last, at) {
			break
		}
	}
	if r.deliveries.Add(1) == r.expected {
		r.doneOnce.Do(func() { close(r.done) })
	}
}

// routedTo records that peer's router delivered message k at time at:
// the gossip part of its delivery ends there, the peer's own handling
// (for intentcast, the node's reader and its event) begins.
func (r *recorder) routedTo(peer, k int, at int64) {
	if k >= 0 && k < r.count && peer != r.from[k] {
		r.routed[k*r.n+peer].CompareAndSwap(0, at)
	}
}

// handedOff records that peer queued message k for gossip at time at; the
// first time any peer does is when gossip took over (the publisher, or the
// end of the stem).
func (r *recorder) handedOff(_, k int, at int64) {
	if k >= 0 && k < r.count {
		r.handed[k].CompareAndSwap(0, at)
	}
}

// Load is the traffic of one run.
type Load struct {
	Rate  float64       // messages per second, all publishers together
	Count int           // messages
	Drain time.Duration // how long to wait for deliveries after the last send
	// Deadline is the latency within which a delivery counts as on time
	// (for the sustained-rate criterion). Zero means 2s.
	Deadline time.Duration
	Seed     uint64 // chooses the publishers
	// Profile, if set, receives a CPU profile of the timed phase.
	Profile io.Writer
	// Latencies, if set, receives a line per message (latencies.go).
	Latencies io.Writer
	// Hops, if set, receives the routers' stamps of the timed phase
	// (hops.go): RunLoad fails with ErrNoHops for a swarm of processes.
	Hops *HopLog
}

// Result is what one run of a Load on one Swarm measured.
type Result struct {
	System string
	N      int
	Rate   float64 // offered rate, messages/s
	Count  int

	Expected, Delivered int64   // (message, receiving peer) pairs; the publisher is not counted
	DeliveryRatio       float64 // Delivered / Expected
	OnTimeRatio         float64 // deliveries within Deadline / Expected
	Duplicates          int64   // deliveries of a message a peer had delivered (must be 0)

	P50, P95, P99, Max time.Duration // publish-to-deliver latency over all deliveries
	// The same from the moment a peer first queued the message for gossip:
	// the gossip part, without the publish path (for intentcast, the
	// durable write of the intent and its keys, the local validation and,
	// with the stem on, the stem).
	NetP50, NetP99 time.Duration
	// RoutedP50 and RoutedP99 are publish-to-deliver latencies up to the
	// receiving peer's router handing the message to its subscriptions,
	// over the deliveries that were stamped there: without the peer's own
	// handling (for intentcast, the node's reader and its event; for raw,
	// the subscription's hand-off to the reader).
	RoutedP50, RoutedP99 time.Duration
	// Routed counts those deliveries: all of them but, with the stem on,
	// the stem's hops (a node takes those from the stem's stream, not
	// from its router).
	Routed int64
	// SchedP99 is the 99th percentile of how long runnable goroutines
	// waited for a P over the run (schedlat.go): the whole process's, so
	// the harness's own goroutines are in it, the same for every system;
	// with a process per peer (ProcSwarm), the median of the peers'.
	SchedP99 time.Duration
	// Late is the share of messages some peer delivered more than 1 s
	// after publication.
	Late float64

	SendRate   float64 // achieved publish rate, messages/s
	Throughput float64 // fully delivered messages/s: Delivered/(N-1) over first send to last delivery
	Wall       time.Duration

	CPU            time.Duration // user+system of the whole process over the phase (with a process per peer: of the peers')
	CPUPerDelivery time.Duration
	CoresUsed      float64 // CPU / (first send to last delivery)

	PeakHeapPerNode uint64 // peak HeapInuse / N (process-wide; with a process per peer, the peers' peaks summed)
	PeakSysPerNode  uint64 // peak runtime Sys / N (likewise)

	// AllocPerDelivery is the bytes allocated over the phase / Delivered,
	// and GCCycles the collections completed in it (process-wide; with a
	// process per peer, the peers' summed): how much of the tail the
	// collector can explain (gcwork.go).
	AllocPerDelivery float64
	GCCycles         uint64

	GossipBytesPerDelivery         float64       // bytes of RPCs sent (payloads + control) / Delivered
	RPCsPerDelivery                float64       // RPCs sent / Delivered
	DroppedRPCs                    int64         // RPCs dropped at full peer queues
	Throttled                      int64         // messages dropped at full validation queues
	PublishCallP50, PublishCallP99 time.Duration // how long the publish call took (intentcast: store write + local validation + send)
	PublishErrors                  int64
	FirstError                     string

	PrepCPUPerMessage time.Duration // CPU time to make one message before the phase (intentcast: mint + sign)
}

// RunLoad publishes load.Count prepared messages from random peers of sw at
// load.Rate, open loop (each send at its scheduled time, whatever happened
// to the previous ones), and waits for every peer to deliver them or for
// load.Drain after the last send.
func RunLoad(ctx context.Context, sw Swarm, load Load) (Result, error) {
	n := sw.Size()
	if load.Deadline == 0 {
		load.Deadline = 2 * time.Second
	}
	res := Result{System: sw.System(), N: n, Rate: load.Rate, Count: load.Count}
	if load.Hops != nil {
		ht, ok := sw.(hopTracing)
		if !ok {
			return res, fmt.Errorf("%s: %w", sw.System(), ErrNoHops)
		}
		ht.traceHops(load.Hops)
		defer ht.traceHops(nil)
	}
	rec := newRecorder(n, load.Count, rand.New(rand.NewPCG(load.Seed, uint64(n))))
	prep, err := sw.prepare(ctx, load.Count, rec)
	if err != nil {
		return res, err
	}
	if load.Count > 0 {
		res.PrepCPUPerMessage = prep / time.Duration(load.Count)
	}

	runtime.GC()
	meter, ok := sw.(phaseMeter)
	if !ok {
		meter = &selfMeter{}
	}
	if err := meter.beginPhase(ctx); err != nil {
		return res, err
	}
	ended := false
	defer func() {
		if !ended { // a run cut short: stop the meter's samplers
			meter.endPhase(context.WithoutCancel(ctx))
		}
	}()
	c0 := sw.counters(ctx)
	if load.Profile != nil {
		if err := pprof.StartCPUProfile(load.Profile); err != nil {
			return res, err
		}
	}
	var pubErrs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	calls := make([]int64, load.Count) // how long each publish call took
	interval := time.Duration(float64(time.Second) / load.Rate)
	start := time.Now()
	t0 := now()
	for k := range load.Count {
		if d := time.Until(start.Add(time.Duration(k) * interval)); d > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(d):
			}
		}
		rec.sent[k].Store(now())
		wg.Go(func() {
			c0 := now()
			err := sw.publish(ctx, rec.from[k], k)
			calls[k] = now() - c0
			if err != nil {
				if pubErrs.Add(1) == 1 {
					firstErr.Store(err.Error())
				}
			}
		})
	}
	lastSend := now()
	select {
	case <-rec.done:
	case <-time.After(load.Drain):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	end := now()
	phase, err := meter.endPhase(ctx)
	ended = true
	if load.Profile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, err
	}
	c1 := sw.counters(ctx)
	res.PeakHeapPerNode, res.PeakSysPerNode = phase.PeakHeap/uint64(n), phase.PeakSys/uint64(n)
	wg.Wait()

	res.Expected = rec.expected
	res.Delivered = rec.deliveries.Load()
	res.Duplicates = rec.duplicates.Load()
	res.PublishErrors = pubErrs.Load()
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	lat := make([]int64, 0, res.Delivered)
	net := make([]int64, 0, res.Delivered)
	routed := make([]int64, 0, res.Delivered)
	var onTime, late int64
	for k := range load.Count {
		s, h := rec.sent[k].Load(), rec.handed[k].Load()
		isLate := false
		for p := range n {
			if at := rec.got[k*n+p].Load(); at != 0 {
				isLate = isLate || time.Duration(at-s) > time.Second
				lat = append(lat, at-s)
				if h != 0 {
					net = append(net, at-h)
				}
				// A router's delivery after the peer's own came too late to
				// be this delivery's: the message reached the node another
				// way (the stem's stream).
				if r := rec.routed[k*n+p].Load(); r != 0 && r <= at {
					routed = append(routed, r-s)
				}
				if time.Duration(at-s) <= load.Deadline {
					onTime++
				}
			}
		}
		if isLate {
			late++
		}
	}
	if load.Count > 0 {
		res.Late = float64(late) / float64(load.Count)
	}
	if load.Latencies != nil {
		if err := writeLatencies(load.Latencies, res.System, rec, calls); err != nil {
			return res, fmt.Errorf("latency log: %w", err)
		}
	}
	slices.Sort(lat)
	slices.Sort(net)
	res.NetP50 = time.Duration(percentile(net, 50))
	res.NetP99 = time.Duration(percentile(net, 99))
	slices.Sort(routed)
	res.Routed = int64(len(routed))
	res.RoutedP50 = time.Duration(percentile(routed, 50))
	res.RoutedP99 = time.Duration(percentile(routed, 99))
	res.SchedP99 = phase.SchedP99
	slices.Sort(calls)
	res.PublishCallP50 = time.Duration(percentile(calls, 50))
	res.PublishCallP99 = time.Duration(percentile(calls, 99))
	if res.Expected > 0 {
		res.DeliveryRatio = float64(res.Delivered) / float64(res.Expected)
		res.OnTimeRatio = float64(onTime) / float64(res.Expected)
	}
	res.P50 = time.Duration(percentile(lat, 50))
	res.P95 = time.Duration(percentile(lat, 95))
	res.P99 = time.Duration(percentile(lat, 99))
	res.Max = time.Duration(percentile(lat, 100))
	if load.Count > 1 {
		res.SendRate = float64(load.Count-1) / time.Duration(lastSend-t0).Seconds()
	}
	if last := rec.last.Load(); last > t0 && n > 1 {
		res.Throughput = float64(res.Delivered) / float64(n-1) / time.Duration(last-t0).Seconds()
	}
	res.Wall = time.Duration(end - t0)
	res.CPU = phase.CPU
	// Cores busy over the active part of the run: a run that waits out its
	// drain for a few lost deliveries is idle for most of it.
	active := max(rec.last.Load(), lastSend) - t0
	res.CoresUsed = res.CPU.Seconds() / time.Duration(active).Seconds()
	if res.Delivered > 0 {
		res.CPUPerDelivery = res.CPU / time.Duration(res.Delivered)
	}
	dc := c1.sub(c0)
	if res.Delivered > 0 {
		res.GossipBytesPerDelivery = float64(dc.SentBytes) / float64(res.Delivered)
		res.RPCsPerDelivery = float64(dc.SentRPCs) / float64(res.Delivered)
		res.AllocPerDelivery = float64(phase.GC.Allocated) / float64(res.Delivered)
	}
	res.GCCycles = phase.GC.Cycles
	res.DroppedRPCs, res.Throttled = dc.DroppedRPCs, dc.Throttled
	return res, nil
}

// quiesce waits until sw's routers have sent nothing but heartbeats for
// a while, so a run does not inherit the previous run's backlog. It gives up
// after limit.
func quiesce(ctx context.Context, sw Swarm, limit time.Duration) {
	deadline := time.Now().Add(limit)
	prev := sw.counters(ctx)
	quiet := 0
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(250 * time.Millisecond)
		cur := sw.counters(ctx)
		// Heartbeats send a few RPCs per peer per second; a backlog sends
		// far more.
		if cur.SentRPCs-prev.SentRPCs <= int64(4*sw.Size()) {
			quiet++
		} else {
			quiet = 0
		}
		prev = cur
		if quiet >= 4 {
			return
		}
	}
}

func (r Result) String() string {
	return fmt.Sprintf("%s N=%d rate=%.0f/s: delivered %.4f (on time %.4f), p50 %s p99 %s max %s (from gossip start p50 %s p99 %s; at the router p50 %s p99 %s; waits for a P p99 %s), %.0f msg/s, %s CPU/delivery (%.2f cores), %.0f B/delivery (%.2f RPCs), heap %s/node, %.1f KiB allocated/delivery, %d collections",
		r.System, r.N, r.Rate, r.DeliveryRatio, r.OnTimeRatio, ms(r.P50), ms(r.P99), ms(r.Max), ms(r.NetP50), ms(r.NetP99), ms(r.RoutedP50), ms(r.RoutedP99), us(r.SchedP99), r.Throughput,
		us(r.CPUPerDelivery), r.CoresUsed, r.GossipBytesPerDelivery, r.RPCsPerDelivery, mib(r.PeakHeapPerNode),
		r.AllocPerDelivery/1024, r.GCCycles)
}
