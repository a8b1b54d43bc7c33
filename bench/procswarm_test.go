package bench

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// childEnv makes this test binary a ProcSwarm peer (TestMain).
const childEnv = "INTENTCAST_BENCH_CHILD=1"

func TestMain(m *testing.M) {
	if os.Getenv("INTENTCAST_BENCH_CHILD") == "1" {
		if err := ChildMain(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func procOptions(t *testing.T) ProcOptions {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	size, err := SignedIntentSize()
	if err != nil {
		t.Fatal(err)
	}
	return ProcOptions{Command: []string{exe}, Env: []string{childEnv}, Payload: size, MinWork: DefaultMinWork}
}

// TestProcSwarm runs a load on swarms of a process per peer: every message
// reaches every peer, the peers' CPU time and memory are measured, and
// every process exits cleanly at Close.
func TestProcSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 18 processes")
	}
	o := procOptions(t)
	load := Load{Rate: 20, Count: 20, Drain: time.Minute, Seed: 1} // Drain ends early once all arrived
	for _, system := range []string{Raw, IntentcastNoStem, Intentcast} {
		sw, err := NewProcSwarm(t.Context(), system, 6, 1, o)
		if err != nil {
			t.Fatalf("%s: %v", system, err)
		}
		peers := sw.peers
		if _, err := RunLoad(t.Context(), sw, Load{Rate: 1, Count: 1, Hops: new(HopLog)}); !errors.Is(err, ErrNoHops) {
			t.Errorf("%s: a run stamping hops across processes: %v, want ErrNoHops", system, err)
		}
		res, err := RunLoad(t.Context(), sw, load)
		if cerr := sw.Close(); cerr != nil {
			t.Errorf("%s: Close: %v", system, cerr)
		}
		if err != nil {
			t.Fatalf("%s: %v", system, err)
		}
		t.Log(res)
		if res.Delivered != res.Expected || res.Duplicates != 0 || res.PublishErrors != 0 {
			t.Errorf("%s delivered %d of %d, %d duplicates, %d publish errors (%s)", system, res.Delivered, res.Expected, res.Duplicates, res.PublishErrors, res.FirstError)
		}
		// NetP99, not NetP50: a message's first send is stamped in its
		// sender's process after gossipsub queued it, so on a busy machine
		// a one-hop delivery can be stamped before it (a median below 0).
		if res.CPUPerDelivery <= 0 || res.PeakHeapPerNode == 0 || res.GossipBytesPerDelivery <= 0 || res.NetP99 <= 0 || res.AllocPerDelivery <= 0 {
			t.Errorf("%s: a figure is missing: %+v", system, res)
		}
		if !routedAll(system, res) {
			t.Errorf("%s: %d of %d deliveries stamped at the router (p50 %s), want all (but the stem's hops)", system, res.Routed, res.Delivered, ms(res.RoutedP50))
		}
		checkExits(t, system, peers)
	}
}

// TestProcRoundTrip runs the round trip with a process per peer, each
// peer playing its own part: every intent is accepted, every step is
// reported, and every process exits cleanly.
func TestProcRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 12 processes")
	}
	o := procOptions(t)
	o.Topics = 2
	rto := RoundTripOptions{Vendors: 2, Intents: 5, Rate: 10, Timeout: time.Minute, Seed: 1} // ends at the last accept
	for _, system := range []string{Raw, IntentcastNoStem} {
		sw, err := NewProcSwarm(t.Context(), system, 6, 2, o)
		if err != nil {
			t.Fatalf("%s: %v", system, err)
		}
		peers := sw.peers
		r, err := RoundTripProc(t.Context(), sw, rto)
		if cerr := sw.Close(); cerr != nil {
			t.Errorf("%s: Close: %v", system, cerr)
		}
		if err != nil {
			t.Fatalf("%s: %v", system, err)
		}
		checkRoundTrip(t, r)
		checkExits(t, system, peers)
	}
}

// checkExits checks that every peer process of a closed swarm exited 0.
func checkExits(t *testing.T, system string, peers []*procPeer) {
	t.Helper()
	for i, p := range peers {
		if st := p.cmd.ProcessState; st == nil || st.ExitCode() != 0 {
			t.Errorf("%s: peer %d's process ended %v, want exit 0", system, i, st)
		}
	}
}

// TestProcSwarmPeerDies: a peer process that dies fails the requests to it
// with errPeerExited instead of leaving them waiting.
func TestProcSwarmPeerDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 3 processes")
	}
	sw, err := NewProcSwarm(t.Context(), Raw, 3, 1, procOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	if err := sw.peers[1].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-sw.peers[1].read
	if err := sw.publish(t.Context(), 1, 0); !errors.Is(err, errPeerExited) {
		t.Errorf("publish from a dead peer: %v, want errPeerExited", err)
	}
}
