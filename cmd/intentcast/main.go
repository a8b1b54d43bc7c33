// Command intentcast runs an intentcast node and talks to it.
//
// The daemon ("intentcast daemon") runs the peer-to-peer node and its local
// HTTP API; every other subcommand is a client of that API. Run
// "intentcast --help" for the list of commands, or see
// cmd/intentcast/internal/cli for the implementation and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks the command to stop cleanly; from then on the
	// default handling is back, so a second Ctrl-C ends the process at once.
	context.AfterFunc(ctx, stop)
	code := cli.Main(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
