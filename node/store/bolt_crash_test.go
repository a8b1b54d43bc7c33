package store_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/intentcast/intentcast/node/store"
)

// crashEnv, set to a store path, turns the test binary into the writer that
// TestBoltCrash kills.
const crashEnv = "INTENTCAST_STORE_CRASH_WRITER"

// TestBoltCrash runs a writer in a child process (this test binary again),
// SIGKILLs it at an arbitrary point while it writes, and checks that the
// file opens and holds every write the child saw acknowledged: a commit that
// returned nil is on disk, whatever happens next.
func TestBoltCrash(t *testing.T) {
	for round := range 4 {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			// Kill after a varying number of acknowledgements, so rounds
			// catch the writer at different points of a transaction.
			acked := crashWriter(t, path, 20+mathrand.IntN(100))
			checkAcked(t, path, acked)
		})
	}
}

// ack is one write the child reported as committed.
type ack struct {
	kind string // one of knownAck
	id   store.ID
}

// knownAck are the kinds of write the child acknowledges: an offer put, a
// replay entry, an offer through Queue (durable by the journal), and an
// offer queued as valid then accepted by Apply (which no replay of the
// journal may take back to valid).
var knownAck = map[string]bool{"offer": true, "seen": true, "queued": true, "accepted": true}

// crashWriter starts the child writer on path, kills it with SIGKILL once it
// has acknowledged killAfter writes, and returns every write it acknowledged,
// including those still in the pipe when it died.
func crashWriter(t *testing.T, path string, killAfter int) []ack {
	// A bound on a hung child, not a time the writes must take: on a busy
	// machine fsyncs alone can take seconds.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBoltCrashWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []ack
	killed := false
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		kind, hexID, ok := strings.Cut(lines.Text(), " ")
		b, err := hex.DecodeString(hexID)
		if !ok || !knownAck[kind] || err != nil || len(b) != len(store.ID{}) {
			continue // not ours: whatever else the test binary prints
		}
		acked = append(acked, ack{kind, store.ID(b)})
		if len(acked) == killAfter {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred code, no Close
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("writer stopped after %d acknowledgements (%v) before it was killed; stderr:\n%s", len(acked), err, stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("writer timed out: %v", ctx.Err())
	}
	t.Logf("killed the writer after %d acknowledged writes (%d asked)", len(acked), killAfter)
	return acked
}

// checkAcked opens the store the child was killed on and finds every
// acknowledged write; then bbolt's own consistency check walks the file.
func checkAcked(t *testing.T, path string, acked []ack) {
	ctx := t.Context()
	s, err := store.Open(path)
	if err != nil {
		t.Fatalf("store does not open after the crash: %v", err)
	}
	for _, a := range acked {
		switch a.kind {
		case "offer":
			if _, err := s.Offer(ctx, a.id); err != nil {
				t.Errorf("acknowledged offer lost: %v", err)
			}
		case "seen":
			if seen, err := s.Seen(ctx, a.id); err != nil || !seen {
				t.Errorf("acknowledged replay entry %x lost: seen %v, %v", a.id[:8], seen, err)
			}
		case "queued":
			if _, err := s.Offer(ctx, a.id); err != nil {
				t.Errorf("acknowledged queued offer lost: %v", err)
			}
		case "accepted":
			if o, err := s.Offer(ctx, a.id); err != nil || o.Status != store.OfferAccepted {
				t.Errorf("acknowledged accept of offer %x: status %s, %v; want accepted", a.id[:8], o.Status, err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rawView(t, path, func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}); err != nil {
		t.Errorf("bbolt consistency check after the crash: %v", err)
	}
}

// TestBoltCrashWriter is the child side of TestBoltCrash: it skips unless
// crashEnv names a store, then writes offers and replay entries until it is
// killed, printing each one's ID once the store has acknowledged it.
func TestBoltCrashWriter(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestBoltCrash")
	}
	ctx := t.Context()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	intent := id("intent")
	for {
		// Random sizes up to a few pages make bbolt split, spill and grow
		// the file, so the kill can land in any of those.
		o := store.Offer{
			ID: randomID(), IntentID: intent, Direction: store.Received, Status: store.OfferValid,
			Raw: make([]byte, mathrand.IntN(3*4096)), Received: time.Now(),
		}
		if err := s.PutOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("offer %x\n", o.ID)
		seen := randomID()
		if _, err := s.MarkSeen(ctx, seen, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("seen %x\n", seen)
		q := store.Offer{ID: randomID(), IntentID: intent, Direction: store.Received, Status: store.OfferValid,
			Raw: make([]byte, mathrand.IntN(4096)), Received: time.Now()}
		if err := s.Queue(ctx, store.Batch{Offers: []store.Offer{q}})(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("queued %x\n", q.ID)
		q.Status = store.OfferAccepted
		if err := s.Apply(ctx, store.Batch{Offers: []store.Offer{q}}); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("accepted %x\n", q.ID)
		// Queued alone too, so that the kill also finds batches that only
		// the journal holds, and checkpoints.
		alone := store.Offer{ID: randomID(), IntentID: intent, Direction: store.Received, Status: store.OfferValid,
			Raw: make([]byte, mathrand.IntN(4096)), Received: time.Now()}
		if err := s.Queue(ctx, store.Batch{Offers: []store.Offer{alone}})(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("queued %x\n", alone.ID)
	}
}

func randomID() store.ID {
	var id store.ID
	rand.Read(id[:])
	return id
}
