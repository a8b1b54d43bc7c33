package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
)

// TestBadCommandLines checks that every mistake is a usage error (exit 2)
// whose message names what is wrong and how to fix it. None of these
// reach a daemon.
func TestBadCommandLines(t *testing.T) {
	dir := t.TempDir()
	publish := []string{"--data-dir", dir, "intent", "publish", "--category", "electronics", "--text", "a laptop", "--max-price", "1200", "--currency", "EUR"}
	longFile := filepath.Join(dir, "long.txt")
	if err := os.WriteFile(longFile, []byte(strings.Repeat("x", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	with := func(base []string, extra ...string) []string { return append(append([]string(nil), base...), extra...) }
	tests := []struct {
		args []string
		want []string // substrings of the message
	}{
		{[]string{"frobnicate"}, []string{`unknown command "frobnicate"`, "intent", "--help"}},
		{[]string{"intent", "frobnicate"}, []string{`unknown command "frobnicate"`, "publish", "intentcast intent --help"}},
		{with(publish, "--bogus"), []string{"unknown flag --bogus", "intentcast intent publish --help"}},
		{[]string{"intent", "publish", "--category", "electronics"}, []string{"max-price"}},
		{with(publish, "--category", "gadgets"), []string{`--category "gadgets"`, "electronics"}},
		{with(publish, "--max-price", "12,50"), []string{`--max-price "12,50"`, "1200.50"}},
		{with(publish, "--max-price", "-3"), []string{`--max-price "-3"`}},
		{with(publish, "--currency", "euro"), []string{`--currency "euro"`, "ISO 4217"}},
		{with(publish, "--region", "Germany"), []string{`--region "Germany"`, "ISO 3166"}},
		{with(publish, "--deliver-by", "tomorrow"), []string{`--deliver-by "tomorrow"`, "2026-05-01"}},
		{with(publish, "--expires-in", "soon"), []string{`--expires-in "soon"`, "72h"}},
		{with(publish, "--terms", "no-tracking,no-spam"), []string{`--terms "no-spam"`, "no-resale"}},
		{with(publish, "--custom", "novalue"), []string{`--custom "novalue"`, "key=value"}},
		{with(publish, "--quantity", "0"), []string{"--quantity", "at least 1"}},
		// The input rules' cases (intent.Draft.Check), caught before any
		// daemon is asked.
		{with(publish, "--currency", "XYZ"), []string{`--currency "XYZ"`, `"XYZ" is not a currency code`, "ISO 4217"}},
		{with(publish, "--region", "XX"), []string{`--region "XX"`, `"XX" is not a country code`}},
		{with(publish, "--max-price", "0"), []string{`--max-price "0"`, "The price ceiling must be more than 0."}},
		{with(publish, "--max-price", "-5"), []string{`--max-price "-5"`, "An amount cannot be negative."}},
		{with(publish, "--max-price", "10.999"), []string{`--max-price "10.999"`, "10.999 has 3 decimals; EUR has at most 2 decimals"}},
		{with(publish, "--text", ""), []string{`--text ""`, "the description is empty"}},
		{with(publish, "--text", strings.Repeat("x", 100<<10)), []string{"--text", "102400 bytes long; at most 1024 bytes fit"}},
		{with(publish, "--text", "@"+longFile), []string{"--text", "2000 bytes long; at most 1024 bytes fit"}},
		{with(publish, "--text", "@"+filepath.Join(dir, "nothing-here")), []string{"--text", "cannot read the file", "no such file"}},
		{[]string{"--data-dir", dir, "vendor", "offer", "abc", "--price", "9", "--text", strings.Repeat("x", 100<<10)}, []string{"--text", "at most 1024 bytes fit"}},
		{with(publish, "--quantity", "many"), []string{"quantity", "many"}},
		{with(publish, "extra"), []string{`unexpected argument "extra"`}},
		{[]string{"intent", "show"}, []string{"missing argument INTENT", "intentcast intent show INTENT"}},
		{[]string{"intent", "show", "a", "b"}, []string{`unexpected argument "b"`}},
		{[]string{"offers", "accept", "abc"}, []string{"missing argument OFFER"}},
		{[]string{"offers", "watch", "--until", "-2"}, []string{`--until "-2"`}},
		{[]string{"vendor", "offer", "abc"}, []string{"price"}},
		{[]string{"counter"}, []string{"missing argument OFFER"}},
		{[]string{"counter", "abc"}, []string{"say something", "--price"}},
		{[]string{"counter", "abc", "--custom", "novalue"}, []string{`--custom "novalue"`, "key=value"}},
		{[]string{"counter", "abc", "--text", strings.Repeat("x", 2000)}, []string{"--text", "at most 1024 bytes fit"}},
		{[]string{"vendor", "reply", "abc"}, []string{"say something", "--price"}},
		{[]string{"vendor", "reply", "abc", "--offer-text", "x"}, []string{"--offer-text", "--price"}},
		{[]string{"vendor", "offer", "abc", "--price", "9", "--valid-for", "a while"}, []string{`--valid-for "a while"`, "24h"}},
		{[]string{"--data-dir", dir, "init", "--profile", "moon"}, []string{`--profile "moon"`, "lan, internet, test"}},
		{[]string{"--data-dir", dir, "daemon", "--api-addr", "7733"}, []string{`--api-addr "7733"`, "127.0.0.1:7733"}},
		{[]string{"--data-dir", dir, "daemon", "--log-level", "loud"}, []string{`--log-level "loud"`, "debug, info"}},
		{[]string{"swarm", "--vendors", "-1"}, []string{`--vendors "-1"`, "0 to 50"}},
		{[]string{"swarm", "--vendors", "0"}, []string{"--demo=false"}},
		{[]string{"--api", "localhost", "peers"}, []string{`--api "localhost"`, "host:port"}},
		{[]string{"--data-dir", dir, "init", "--bootstrap", "/ip4/1.2.3.4/tcp/1"}, []string{`--bootstrap "/ip4/1.2.3.4/tcp/1"`, "/p2p/<peer ID>"}},
		{[]string{"--data-dir", dir, "daemon", "--reachability", "sometimes"}, []string{`--reachability "sometimes"`, "auto, public or private"}},
		{[]string{"--data-dir", dir, "daemon", "--dht", "on"}, []string{`--dht "on"`, "off, client, server or auto"}},
		{[]string{"--json", "deal", "export", "abc", "--out", "-"}, []string{"--out -", "--json"}},
		{[]string{"peers", "frobnicate"}, []string{`unknown command "frobnicate"`, "connect or disconnect"}},
		{[]string{"peers", "connect"}, []string{"missing argument ADDR"}},
		{[]string{"peers", "connect", "203.0.113.7:4001"}, []string{`ADDR "203.0.113.7:4001"`, "/p2p/<peer ID>"}},
		{[]string{"peers", "connect", "/ip4/203.0.113.7/tcp/4001"}, []string{"/p2p/<peer ID>"}},
		{[]string{"peers", "disconnect", "bob"}, []string{`ID "bob" is not a peer ID`, "intentcast peers"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d (%v), want %d\nstdout:\n%s", r.code, r.err, ExitUsage, r.stdout)
			}
			var stderr bytes.Buffer
			Main(context.Background(), append([]string{"intentcast"}, tt.args...), &bytes.Buffer{}, &stderr)
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("message does not contain %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestHelpEverywhere(t *testing.T) {
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	paths := [][]string{{}}
	root := a.rootCommand()
	for _, c := range root.Commands {
		paths = append(paths, []string{c.Name})
		for _, sub := range c.Commands {
			paths = append(paths, []string{c.Name, sub.Name})
		}
	}
	for _, p := range paths {
		r := run(t, append(p, "--help")...)
		if r.code != 0 {
			t.Errorf("%s --help: exit %d", strings.Join(p, " "), r.code)
			continue
		}
		if !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help shows no examples:\n%s", strings.Join(p, " "), r.stdout)
		}
	}
}

func TestNoDaemonExits3(t *testing.T) {
	// A port nothing listens on: bind one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, args := range [][]string{
		{"intent", "list"},
		{"peers"},
		{"deals", "--json"},
		{"offers", "watch"},
		{"intent", "publish", "--category", "home", "--text", "a sofa", "--max-price", "10", "--currency", "EUR"},
	} {
		r := run(t, append([]string{"--api", addr, "--token", "x"}, args...)...)
		if r.code != ExitNoDaemon {
			t.Errorf("%s: exit %d (%v), want %d", strings.Join(args, " "), r.code, r.err, ExitNoDaemon)
		}
		var stderr bytes.Buffer
		Main(t.Context(), append([]string{"intentcast", "--api", addr, "--token", "x"}, args...), &bytes.Buffer{}, &stderr)
		if want := "no daemon at http://" + addr + "; start one with `intentcast daemon`"; !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: message %q does not contain %q", strings.Join(args, " "), stderr.String(), want)
		}
	}
	// The client finds the address in the data dir.
	dir := t.TempDir()
	mustRun(t, "--data-dir", dir, "init")
	if err := daemon.WriteFileAtomic(dir+"/"+daemon.AddrFile, []byte(addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "--data-dir", dir, "intent", "list"); r.code != ExitNoDaemon || !strings.Contains(r.err.Error(), addr) {
		t.Errorf("with api.addr in the data dir: exit %d, %v; want %d naming %s", r.code, r.err, ExitNoDaemon, addr)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{&UsageError{Command: "intentcast", Err: errors.New("x")}, 2},
		{fmt.Errorf("wrapped: %w", &NoDaemonError{Addr: "a"}), 3},
		{fmt.Errorf("no intent: %w", ErrNotFound), 4},
		{fmt.Errorf("%w: %w", ErrInterrupted, context.Canceled), 130},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	r := mustRun(t, "--api", "127.0.0.1:1", "version")
	if !strings.HasPrefix(r.stdout, "intentcast ") {
		t.Errorf("version printed %q", r.stdout)
	}
}

// TestShellCompletion: the scripts print, and the completions they ask
// for list the commands and the flags.
func TestShellCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if r := mustRun(t, "completion", shell); !strings.Contains(r.stdout, "intentcast") {
			t.Errorf("completion %s printed:\n%s", shell, r.stdout)
		}
	}
	if r := mustRun(t, "intent", "--generate-shell-completion"); !strings.Contains(r.stdout, "publish") {
		t.Errorf("completions of intent:\n%s", r.stdout)
	}
	if r := mustRun(t, "intent", "publish", "--", "--generate-shell-completion"); !strings.Contains(r.stdout, "--max-price") {
		t.Errorf("flag completions of intent publish:\n%s", r.stdout)
	}
	if r := mustRun(t, "--help"); !strings.Contains(r.stdout, "completion") {
		t.Errorf("the help does not list the completion command:\n%s", r.stdout)
	}
}

func TestVersionFrom(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "4f1c2d3e5a6b7c8d9e0f"}
	dirty := debug.BuildSetting{Key: "vcs.modified", Value: "true"}
	for _, tt := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202081500-4f1c2d3e5a6b+dirty"}, Settings: []debug.BuildSetting{rev}}, "v0.0.0-20261202081500-4f1c2d3e5a6b+dirty"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{rev}}, "devel-4f1c2d3e5a6b"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{rev, dirty}}, "devel-4f1c2d3e5a6b+dirty"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	} {
		if got := versionFrom(tt.bi); got != tt.want {
			t.Errorf("versionFrom(%+v) = %q, want %q", tt.bi, got, tt.want)
		}
	}
}

func TestInterruptedExits130(t *testing.T) {
	dir := t.TempDir()
	startDaemon(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := runCtx(ctx, "--data-dir", dir, "intent", "list")
	if r.code != ExitInterrupted {
		t.Errorf("a client command whose context ended: exit %d (%v), want %d", r.code, r.err, ExitInterrupted)
	}
	// A watch stopped by Ctrl-C exits 130 too, and says nothing more:
	// stopped before it reached the daemon, and while it follows the
	// stream.
	for _, watch := range [][]string{{"offers", "watch"}, {"vendor", "watch"}} {
		var stderr bytes.Buffer
		code := Main(ctx, append([]string{"intentcast", "--data-dir", dir}, watch...), &bytes.Buffer{}, &stderr)
		if code != ExitInterrupted || strings.Contains(stderr.String(), "intentcast:") {
			t.Errorf("%v ended by its context: exit %d, stderr %q; want %d and no error message", watch, code, stderr.String(), ExitInterrupted)
		}

		live, interrupt := context.WithCancel(t.Context())
		stderrLive := &syncBuffer{}
		exited := make(chan int, 1)
		go func() {
			exited <- Main(live, append([]string{"intentcast", "--data-dir", dir}, watch...), &bytes.Buffer{}, stderrLive)
		}()
		eventually(t, 0, strings.Join(watch, " ")+" says what it watches", func() bool {
			return strings.Contains(stderrLive.String(), "(Ctrl-C to stop)")
		})
		select {
		case code := <-exited:
			t.Fatalf("%v exited %d before it was interrupted; stderr %q", watch, code, stderrLive)
		default:
		}
		interrupt()
		if code := <-exited; code != ExitInterrupted || strings.Contains(stderrLive.String(), "intentcast:") {
			t.Errorf("%v interrupted while watching: exit %d, stderr %q; want %d and no error message", watch, code, stderrLive, ExitInterrupted)
		}
	}
}
