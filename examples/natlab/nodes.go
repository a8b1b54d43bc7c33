package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"time"
)

// daemon is one intentcast daemon process running in a lab namespace.
type daemon struct {
	name string // for messages: "relay", "customer", ...
	ns   string
	bin  string
	dir  string // data dir
	cmd  *exec.Cmd
	done chan error
}

// nodeSpec is what a lab node runs with.
type nodeSpec struct {
	name, ns  string
	port      int
	vendor    string   // vendor.name; empty for a customer
	bootstrap []string // multiaddrs
	flags     []string // extra daemon flags
}

// startDaemon initialises a data dir with the internet profile, as a user
// would, lowers the proof of work for the lab, and starts the daemon in its
// namespace. It returns once the daemon's API answers.
func startDaemon(ctx context.Context, bin, root string, s nodeSpec) (*daemon, error) {
	d := &daemon{name: s.name, ns: s.ns, bin: bin, dir: filepath.Join(root, s.name), done: make(chan error, 1)}
	args := []string{"init", "--profile", "internet"}
	for _, b := range s.bootstrap {
		args = append(args, "--bootstrap", b)
	}
	if _, err := d.cli(ctx, args...); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(d.dir, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, err
	}
	for re, repl := range map[string]string{
		`(?m)^listen = \[.*\]$`:       fmt.Sprintf(`listen = ["/ip4/0.0.0.0/tcp/%d", "/ip4/0.0.0.0/udp/%d/quic-v1"]`, s.port, s.port),
		`(?m)^min_work = .*$`:         "min_work = 8",
		`(?m)^min_offer_work = .*$`:   "min_offer_work = 4",
		`(?m)^categories = .*$`:       `categories = ["electronics"]`,
		`(?m)^name = .*$`:             fmt.Sprintf("name = %q", s.vendor),
		`(?m)^listen = "127.0.0.1.*$`: `listen = "127.0.0.1:0"`,
	} {
		cfg = regexp.MustCompile(re).ReplaceAll(cfg, []byte(repl))
	}
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(root, s.name+".log"))
	if err != nil {
		return nil, err
	}
	d.cmd = exec.Command("ip", append([]string{"netns", "exec", s.ns, bin, "--data-dir", d.dir, "daemon", "--log-level", "info"}, s.flags...)...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { d.done <- d.cmd.Wait(); logf.Close() }()
	err = await(ctx, 60*time.Second, s.name+"'s API answers", func() (bool, error) {
		select {
		case err := <-d.done:
			d.done <- err
			return false, fmt.Errorf("%s exited: %v (log: %s)", s.name, err, logf.Name())
		default:
		}
		_, err := d.cli(ctx, "--json", "id")
		return err == nil, nil
	})
	return d, err
}

// cli runs an intentcast command against the daemon, inside its namespace
// (the API listens on the namespace's own loopback).
func (d *daemon) cli(ctx context.Context, args ...string) ([]byte, error) {
	full := append([]string{"netns", "exec", d.ns, d.bin, "--data-dir", d.dir}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: intentcast %v: %v: %s", d.name, args, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// cliJSON runs a command with --json and decodes its output.
func cliJSON[T any](ctx context.Context, d *daemon, args ...string) (T, error) {
	var v T
	out, err := d.cli(ctx, append([]string{"--json"}, args...)...)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return v, fmt.Errorf("%s: intentcast %v: %v: %s", d.name, args, err, out)
	}
	return v, nil
}

// stop ends the daemon with SIGTERM (SIGKILL after 20 s) and waits for it.
func (d *daemon) stop() error {
	if d == nil || d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		d.done <- err
		return err
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		err := <-d.done
		d.done <- err
		return fmt.Errorf("%s did not stop within 20s of SIGTERM", d.name)
	}
}

// await polls cond every 250 ms until it holds, it fails, or timeout.
func await(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting until %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
