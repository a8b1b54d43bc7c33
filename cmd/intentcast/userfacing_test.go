package main_test

import (
	"cmp"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestBinaryUserFacing checks what a person meets in the binary the
// README builds, where an in-process test cannot look: the version names
// the commit it was built from (not "devel"), the daemon reports the same,
// SIGHUP leaves the daemon running, and a watch stopped by Ctrl-C (SIGINT)
// exits 130 without an error message.
func TestBinaryUserFacing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon process")
	}
	bin, root := readmeBuild(t)
	dir := filepath.Join(t.TempDir(), "node")
	d := startDaemon(t, bin, dir)

	// A real version: the build stamps the commit of a clone.
	r := cli(t, bin, dir, "version")
	v, ok := strings.CutPrefix(strings.SplitN(r.stdout, "\n", 2)[0], "intentcast ")
	if r.code != 0 || !ok || v == "" {
		t.Fatalf("version: exit %d, printed %q; want intentcast and a version", r.code, r.stdout)
	}
	// Go finds the commit only where .git is a directory: a clone, not a
	// git worktree (.git is a file) or a source archive (none), whose
	// builds say "devel".
	if fi, err := os.Stat(filepath.Join(root, ".git")); err == nil && fi.IsDir() {
		rev, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err != nil {
			t.Fatalf("git rev-parse HEAD in a clone: %v", err)
		}
		if want := strings.TrimSpace(string(rev))[:12]; !strings.Contains(v, want) {
			t.Errorf("version %q does not name the commit it was built from (%s)", v, want)
		}
	} else {
		t.Logf("not a clone (%s/.git is no directory): the version %q names no commit", root, v)
	}
	if info := cliJSON[client.NodeInfo](t, bin, dir, "id"); info.Version != v {
		t.Errorf("the daemon reports version %q, the client %q", info.Version, v)
	}

	// SIGHUP reloads; the daemon keeps serving (Go's default would end it).
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the daemon logs the reload", func() bool {
		return strings.Contains(d.stderr.String(), "SIGHUP")
	})
	if r := cli(t, bin, dir, "--json", "id"); r.code != 0 {
		t.Errorf("after SIGHUP: id exit %d\n%s", r.code, r.stderr)
	}

	// Ctrl-C ends a watch with 130, as it ends any command a person
	// interrupts, and nothing more is said.
	for _, watch := range [][]string{{"offers", "watch"}, {"vendor", "watch"}} {
		stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
		cmd := exec.Command(bin, append([]string{"--data-dir", dir}, watch...)...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env(), stdout, stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		eventually(t, 20*time.Second, strings.Join(watch, " ")+" says what it watches", func() bool {
			return strings.Contains(stderr.String(), "(Ctrl-C to stop)")
		})
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		select {
		case <-exited:
		case <-time.After(patience):
			cmd.Process.Kill()
			<-exited
			t.Fatalf("%v did not end within %v of SIGINT", watch, patience)
		}
		if code := cmd.ProcessState.ExitCode(); code != 130 || strings.Contains(stderr.String(), "intentcast:") {
			t.Errorf("%v after SIGINT: exit %d, stderr %q; want 130 and no error message", watch, code, stderr)
		}
	}
}

// readmeBuild builds the binary with the README's command (its output
// in a temporary directory) and returns it and the module's root.
func readmeBuild(t *testing.T) (bin, root string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^go build .*\./cmd/intentcast$`).Find(readme)
	if line == nil {
		t.Fatal("the README has no go build ... ./cmd/intentcast line")
	}
	args := strings.Fields(string(line))
	bin = filepath.Join(t.TempDir(), "intentcast")
	if i := slices.Index(args, "-o"); i >= 0 && i+1 < len(args) {
		args[i+1] = bin
	} else {
		args = slices.Insert(args, 2, "-o", bin)
	}
	build := exec.Command(args[0], args[1:]...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return bin, root
}

// TestGitignore: the README's build leaves the binary at the root of the
// checkout (go build -buildvcs=true -o intentcast ./cmd/intentcast), and go test -c
// leaves NAME.test;
// .gitignore keeps both out of commits.
func TestGitignore(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	built := regexp.MustCompile(`go build (?:-\S+ )*?(?:-o (\S+) )?\./cmd/intentcast`).FindStringSubmatch(string(readme))
	if built == nil {
		t.Fatal("the README no longer builds with go build ./cmd/intentcast; update this test to what it builds")
	}
	binary := cmp.Or(built[1], "intentcast")
	b, err := os.ReadFile("../../.gitignore")
	if err != nil {
		t.Fatalf("no .gitignore at the root of the checkout: %v", err)
	}
	for _, file := range []string{binary, "intentcast.test", "cmd/intentcast/main.test"} {
		if !ignored(string(b), file) {
			t.Errorf(".gitignore does not ignore %s", file)
		}
	}
	for _, file := range []string{"cmd/intentcast/main.go", "README.md", "cmd/intentcast/internal/cli/intent.go"} {
		if ignored(string(b), file) {
			t.Errorf(".gitignore ignores %s, a source file", file)
		}
	}
}

// ignored reports whether the patterns of a .gitignore (the subset it
// uses: globs, anchored with a leading '/', comments) ignore file, a path
// from the root of the checkout.
func ignored(gitignore, file string) bool {
	for _, line := range strings.Split(gitignore, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if anchored, ok := strings.CutPrefix(line, "/"); ok {
			if m, _ := path.Match(anchored, file); m {
				return true
			}
			continue
		}
		if m, _ := path.Match(line, path.Base(file)); m {
			return true
		}
	}
	return false
}
