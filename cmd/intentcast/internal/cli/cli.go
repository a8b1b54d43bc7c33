// Package cli implements the intentcast command: the client commands that
// drive a daemon over its local HTTP API (node/api/client), the flags of
// the daemon and init commands around package daemon, which assembles and
// runs the node, and the local swarm.
//
// Run executes one command line in process, writing to the given stdout and
// stderr, so tests drive the real command tree. Main wraps Run for the
// binary: it prints the error and maps it to an exit code.
//
// # Exit codes
//
//	0    success
//	1    failure (the daemon or the network refused, an I/O error, ...)
//	2    usage error: unknown command or flag, bad flag value, missing argument
//	3    cannot reach the daemon (not running, wrong --api address)
//	4    not found: no intent, offer or webhook with that ID
//	130  interrupted (Ctrl-C) before the command finished
//
// The services (daemon, swarm --keep) exit 0 when interrupted: stopping
// is how they end. A watch interrupted exits 130, as any command does, so
// that a script tells it from one that met its --until.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

// Exit codes; see the package documentation.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitNoDaemon    = 3
	ExitNotFound    = 4
	ExitInterrupted = 130
)

// Version is the version the binary reports. It is set at link time
// (-ldflags "-X github.com/intentcast/intentcast/cmd/intentcast/internal/cli.Version=v1.2.3");
// when unset, the build info says (versionFrom).
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(bi)
}

// versionFrom reads a version from the build info: the module's version
// (go install ...@v1.2.3, or the pseudo-version go build stamps in a git
// checkout: v0.0.0-20261202081500-4f1c2d3e5a6b, +dirty with local
// changes), else the commit it was built from, else "devel" (go run, go
// test: built without either).
func versionFrom(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel-" + rev[:min(12, len(rev))]
	if modified == "true" {
		v += "+dirty"
	}
	return v
}

// UsageError is a command line that cannot run as written. Its message says
// what is wrong and how to fix it.
type UsageError struct {
	Command string // full command name, e.g. "intentcast intent publish"
	Err     error
}

func (e *UsageError) Error() string {
	return fmt.Sprintf("%s: %v\nRun '%s --help' for usage.", e.Command, e.Err, e.Command)
}

func (e *UsageError) Unwrap() error { return e.Err }

// usagef returns a UsageError for cmd.
func usagef(cmd *ucli.Command, format string, args ...any) error {
	return &UsageError{Command: cmd.FullName(), Err: fmt.Errorf(format, args...)}
}

// flagError is a bad flag value: it names the flag, the value and what is
// wanted instead.
func flagError(cmd *ucli.Command, flag, value, want string) error {
	return usagef(cmd, "--%s %q: %s", flag, value, want)
}

// NoDaemonError reports that no daemon answered at the API address.
type NoDaemonError struct {
	Addr string
	Err  error
}

func (e *NoDaemonError) Error() string {
	return fmt.Sprintf("no daemon at %s; start one with `intentcast daemon` (or point --api / INTENTCAST_API at a running one)", e.Addr)
}

func (e *NoDaemonError) Unwrap() error { return e.Err }

// ErrNotFound is wrapped by errors about an ID that names nothing.
var ErrNotFound = errors.New("not found")

// ErrInterrupted is wrapped by the error of a command stopped by its
// context (Ctrl-C) before it finished.
var ErrInterrupted = errors.New("interrupted")

// errShown marks an error whose message was already written.
type errShown struct{ err error }

func (e errShown) Error() string { return e.err.Error() }
func (e errShown) Unwrap() error { return e.err }

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	var (
		usage    *UsageError
		noDaemon *NoDaemonError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &noDaemon):
		return ExitNoDaemon
	case errors.Is(err, ErrNotFound) || apiStatus(err) == 404:
		return ExitNotFound
	}
	return ExitFailure
}

// Main runs the command line args (args[0] is the program name) and returns
// the exit code, having written any error to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdout, stderr)
	if err != nil {
		var (
			shown errShown
			usage *UsageError
		)
		switch {
		case errors.As(err, &shown):
		case errors.As(err, &usage):
			fmt.Fprintln(stderr, usage) // names the command already
		default:
			fmt.Fprintf(stderr, "intentcast: %v\n", err)
		}
	}
	return ExitCode(err)
}

// Run runs one command line (args[0] is the program name) in process.
// Cancelling ctx stops the command: the services (daemon, swarm --keep)
// return nil, anything else (a watch too) an error wrapping ErrInterrupted.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"intentcast"}
	}
	a := &app{stdin: os.Stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	err := root.Run(ctx, args)
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrInterrupted) {
		var usage *UsageError
		if !errors.As(err, &usage) {
			err = fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
	}
	return err
}

// app is the state one Run shares between its commands.
type app struct {
	stdin          io.Reader // for flags that say "-"
	stdout, stderr io.Writer
}

// Flags every command inherits.
const (
	flagDataDir = "data-dir"
	flagAPI     = "api"
	flagToken   = "token"
	flagJSON    = "json"
)

func (a *app) rootCommand() *ucli.Command {
	root := &ucli.Command{
		Name:    "intentcast",
		Usage:   "broadcast what you want to buy; let vendors come to you",
		Version: version(),
		Description: `intentcast is a peer-to-peer network for customer intents. Your node
broadcasts a signed, anonymous intent (what, price ceiling, region, your
terms); vendors answer with sealed offers only you can read; you accept one.

Start a node with 'intentcast daemon'; every other command talks to it.
To see the whole loop on one machine, run 'intentcast swarm'.

Examples:
  intentcast daemon
  intentcast intent publish --category electronics --text "14-inch laptop, 32 GB" --max-price 1200 --currency EUR
  intentcast offers watch
  intentcast offers accept INTENT OFFER
  intentcast swarm`,
		Writer:    a.stdout,
		ErrWriter: a.stderr,
		// 'intentcast completion bash|zsh|fish|pwsh' prints the script;
		// shown in the help, where people look for it.
		EnableShellCompletion:           true,
		ConfigureShellCompletionCommand: func(c *ucli.Command) { c.Hidden = false },
		Flags: []ucli.Flag{
			&ucli.StringFlag{
				Name:        flagDataDir,
				Usage:       "data directory (keys, config, store, API token and address)",
				Sources:     ucli.EnvVars("INTENTCAST_DATA_DIR"),
				DefaultText: "$XDG_DATA_HOME/intentcast or ~/.local/share/intentcast",
				TakesFile:   true,
			},
			&ucli.StringFlag{
				Name:        flagAPI,
				Usage:       "address of the daemon's API, host:port or http://host:port",
				Sources:     ucli.EnvVars("INTENTCAST_API"),
				DefaultText: "read from DATA_DIR/api.addr, else " + client.DefaultAddr,
			},
			&ucli.StringFlag{
				Name:        flagToken,
				Usage:       "API bearer token",
				Sources:     ucli.EnvVars("INTENTCAST_TOKEN"),
				DefaultText: "read from DATA_DIR/api.token",
			},
			&ucli.BoolFlag{
				Name:  flagJSON,
				Usage: "print JSON instead of tables (for scripts)",
			},
		},
		Commands: []*ucli.Command{
			a.initCommand(),
			a.daemonCommand(),
			a.intentCommand(),
			a.offersCommand(),
			a.counterCommand(),
			a.threadCommand(),
			a.threadsCommand(),
			a.dealsCommand(),
			a.dealCommand(),
			a.vendorCommand(),
			a.rateCommand(),
			a.replyCommand(),
			a.reputationCommand(),
			a.peersCommand(),
			a.statusCommand(),
			a.idCommand(),
			a.protocolCommand(),
			a.versionCommand(),
			a.swarmCommand(),
		},
		// Run returns errors; it never exits the process.
		ExitErrHandler:  func(context.Context, *ucli.Command, error) {},
		HideHelpCommand: true,
		Suggest:         true,
	}
	_ = root.Walk(func(c *ucli.Command) error {
		c.OnUsageError = onUsageError
		// List flags split on commas where we say so (splitList); a
		// custom term's value may hold commas.
		c.DisableSliceFlagSeparator = true
		if c.Action == nil && len(c.Commands) > 0 {
			c.Action = groupAction
		}
		return nil
	})
	return root
}

var (
	badValueRE = regexp.MustCompile(`^invalid value "(.*)" for flag -([\w-]+): `)
	requiredRE = regexp.MustCompile(`^Required flags? "(.*)" not set`)
)

// onUsageError turns urfave/cli's parse errors into UsageErrors that say
// what is wrong in the words the help uses.
func onUsageError(_ context.Context, cmd *ucli.Command, err error, _ bool) error {
	msg := err.Error()
	// The standard flag package spells flags with one dash; we document two.
	msg = strings.Replace(msg, "flag provided but not defined: -", "unknown flag --", 1)
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("--%s %q: %s", m[2], m[1], wantForFlag(cmd, m[2]))
	}
	if m := requiredRE.FindStringSubmatch(msg); m != nil {
		names := strings.Split(m[1], ", ")
		for i, n := range names {
			names[i] = "--" + n
		}
		msg = "missing required " + map[bool]string{true: "flag ", false: "flags "}[len(names) == 1] +
			strings.Join(names, ", ") + " (see the examples in --help)"
	}
	return &UsageError{Command: cmd.FullName(), Err: errors.New(msg)}
}

// wantForFlag says what a flag's value should look like.
func wantForFlag(cmd *ucli.Command, name string) string {
	for c := cmd; c != nil; c = parentOf(c) {
		for _, f := range c.Flags {
			if !slices.Contains(f.Names(), name) {
				continue
			}
			switch f.(type) {
			case *ucli.IntFlag, *ucli.Uint64Flag, *ucli.Int64Flag, *ucli.UintFlag:
				return "want a whole number"
			case *ucli.DurationFlag:
				return "want a duration such as 30s, 5m or 2h"
			case *ucli.BoolFlag:
				return "want true or false"
			}
		}
	}
	return "not a valid value"
}

// parentOf returns the command's parent, or nil for the root.
func parentOf(cmd *ucli.Command) *ucli.Command {
	lineage := cmd.Lineage()
	if len(lineage) < 2 {
		return nil
	}
	return lineage[1]
}

// groupAction runs for a command with subcommands when none was named.
func groupAction(ctx context.Context, cmd *ucli.Command) error {
	if cmd.NArg() > 0 {
		names := make([]string, 0, len(cmd.Commands))
		for _, c := range cmd.VisibleCommands() {
			names = append(names, c.Name)
		}
		return usagef(cmd, "unknown command %q; want one of: %s", cmd.Args().First(), strings.Join(names, ", "))
	}
	if cmd.Root() == cmd {
		return ucli.ShowRootCommandHelp(cmd)
	}
	return ucli.ShowSubcommandHelp(cmd)
}

// noArgs rejects positional arguments.
func noArgs(cmd *ucli.Command) error {
	if cmd.NArg() > 0 {
		return usagef(cmd, "unexpected argument %q; this command takes only flags", cmd.Args().First())
	}
	return nil
}

// exactArgs checks the number of positional arguments, naming them.
func exactArgs(cmd *ucli.Command, names ...string) ([]string, error) {
	args := cmd.Args().Slice()
	if len(args) < len(names) {
		return nil, usagef(cmd, "missing argument %s; usage: %s %s", names[len(args)], cmd.FullName(), strings.Join(names, " "))
	}
	if len(args) > len(names) {
		return nil, usagef(cmd, "unexpected argument %q; usage: %s %s", args[len(names)], cmd.FullName(), strings.Join(names, " "))
	}
	return args, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
