package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
)

// syncBuffer is a bytes.Buffer safe for a daemon goroutine to write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what one in-process run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

// run runs one command line in process with a deadline.
func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	return runCtx(ctx, args...)
}

func runCtx(ctx context.Context, args ...string) result {
	var stdout, stderr bytes.Buffer
	err := Run(ctx, append([]string{"intentcast"}, args...), &stdout, &stderr)
	return result{stdout.String(), stderr.String(), ExitCode(err), err}
}

// mustRun runs a command line that must succeed.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("intentcast %s: exit %d: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.err, r.stdout, r.stderr)
	}
	return r
}

// decodeJSON decodes a command's --json output.
func decodeJSON[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("output is not the expected JSON (%v):\n%s", err, r.stdout)
	}
	return v
}

// decodeLines decodes JSON lines (the watch commands' --json output).
func decodeLines[T any](t *testing.T, out string) []T {
	t.Helper()
	var vs []T
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line is not JSON (%v): %s", err, line)
		}
		vs = append(vs, v)
	}
	return vs
}

// patience is the least time a test waits for a condition. The suite
// must pass on a busy 2-core machine, where starting a node or a gossip
// round can take many times what it takes on an idle one; a condition that
// holds ends the wait at once, so only a failing test pays the full wait.
const patience = 2 * time.Minute

// eventually polls cond until it holds or the deadline (timeout, at least
// patience) passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = max(timeout, patience)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	if err := poll(ctx, 25*time.Millisecond, cond); err != nil {
		t.Fatalf("timed out after %s waiting until %s", timeout, what)
	}
}

// daemon is a daemon run in process by Run.
type testDaemon struct {
	dir            string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
	stopOnce       sync.Once
}

// startDaemon runs `intentcast --data-dir dir daemon --profile test extra...`
// in a goroutine and waits until it is ready: its API address written and
// its banner printed to the end (the banner follows the address file). The
// test's cleanup stops it.
func startDaemon(t *testing.T, dir string, extra ...string) *testDaemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &testDaemon{dir: dir, stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	args := append([]string{"intentcast", "--data-dir", dir, "daemon", "--profile", "test", "--log-level", "warn"}, extra...)
	go func() { d.done <- Run(ctx, args, d.stdout, d.stderr) }()
	t.Cleanup(func() { d.stop(t) })
	eventually(t, 20*time.Second, "the daemon writes its API address and banner", func() bool {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("daemon exited early: %v\nstdout:\n%s\nstderr:\n%s", err, d.stdout, d.stderr)
		default:
		}
		_, err := os.Stat(filepath.Join(dir, daemon.AddrFile))
		return err == nil && strings.Contains(d.stdout.String(), "Ctrl-C stops the daemon.")
	})
	return d
}

// stop cancels the daemon's context and checks it stops cleanly.
func (d *testDaemon) stop(t *testing.T) {
	t.Helper()
	d.stopOnce.Do(func() {
		d.cancel()
		select {
		case err := <-d.done:
			if err != nil {
				t.Errorf("daemon stopped with %v\nstderr:\n%s", err, d.stderr)
			}
		case <-time.After(patience):
			t.Errorf("daemon did not stop within %v of its context ending", patience)
		}
	})
}
