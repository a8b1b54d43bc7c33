package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

// The API commands share one shape: check the arguments, connect to the
// daemon, call the API, and print the answer, as JSON with --json or for
// people. Each command says only what it checks, calls and prints.

// callAPI connects, makes one call (which may resolve IDs and call the API
// more than once) and prints its answer: as JSON with --json, else with
// text. Errors say what to do about them (conn.wrap). call takes the conn
// first, so that a client method fits as is: (*conn).Node.
func callAPI[T any](ctx context.Context, a *app, cmd *ucli.Command, call func(*conn, context.Context) (T, error), text func(*conn, T) error) error {
	c, err := a.connect(cmd)
	if err != nil {
		return err
	}
	v, err := call(c, ctx)
	if err != nil {
		return c.wrap(err)
	}
	if cmd.Bool(flagJSON) {
		return printJSON(a.stdout, v)
	}
	return text(c, v)
}

// listAPI is callAPI for a command without arguments that lists things:
// JSON prints an empty list as [], and text prints none when there are
// none.
func listAPI[T any](ctx context.Context, a *app, cmd *ucli.Command, call func(*conn, context.Context) ([]T, error), none string, text func([]T) error) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	list := func(c *conn, ctx context.Context) ([]T, error) {
		v, err := call(c, ctx)
		return nonNil(v), err
	}
	return callAPI(ctx, a, cmd, list, func(_ *conn, v []T) error {
		if len(v) == 0 {
			_, err := fmt.Fprintln(a.stdout, none)
			return err
		}
		return text(v)
	})
}

// ownIntent makes a call on one of the node's own intents: it resolves arg
// (an ID or a unique prefix) among them, then calls call with the full ID,
// so that a client method fits as is: ownIntent(cmd, arg, (*conn).Intent).
func ownIntent[T any](cmd *ucli.Command, arg string, call func(*conn, context.Context, string) (T, error)) func(*conn, context.Context) (T, error) {
	return func(c *conn, ctx context.Context) (T, error) {
		id, err := c.ownIntentID(ctx, cmd, arg)
		if err != nil {
			var zero T
			return zero, err
		}
		return call(c, ctx, id)
	}
}

// watch is what a watch command shows of the event stream.
type watch[T any] struct {
	banner string // what is watched, said on stderr without --json
	// pick returns the thing an event brings and its ID, or ok false for
	// an event this watch does not show. A thing shows once: reconnecting
	// replays the stream.
	pick func(client.EventView) (id string, v T, ok bool)
	// counts reports whether a thing counts toward --until.
	counts func(T) bool
	line   func(io.Writer, T)
	// update returns the new state of a thing an event changes (the
	// vendor's watch: an intent cancelled or accepted); it is printed only
	// if the thing was shown, by updateLine or, with --json, as the
	// thing's JSON object again, and never counts toward --until. May be
	// nil.
	update func(client.EventView) (id string, v T, ok bool)
	// updateLine prints an update without --json.
	updateLine func(io.Writer, T)
}

// watchAPI is the shape of the watch commands: check --until, connect,
// set up (start may resolve IDs), then print each new thing as it arrives,
// as one JSON object a line with --json, until --until things counted (exit
// 0) or Ctrl-C (exit 130, errWatchInterrupted). noun names the things in
// --until's error.
func watchAPI[T any](ctx context.Context, a *app, cmd *ucli.Command, noun string, start func(*conn, context.Context) (watch[T], error)) error {
	until := cmd.Int("until")
	if until < 0 {
		return flagError(cmd, "until", fmt.Sprint(until), "want 0 (run until Ctrl-C) or a number of "+noun)
	}
	c, err := a.connect(cmd)
	if err != nil {
		return err
	}
	w, err := start(c, ctx)
	if err != nil {
		return c.wrap(err)
	}
	jsonOut := cmd.Bool(flagJSON)
	if !jsonOut {
		fmt.Fprintf(a.stderr, "watching %s (Ctrl-C to stop)\n", w.banner)
	}
	shown := map[string]bool{}
	n := 0
	err = c.follow(ctx, func(ev client.EventView) error {
		id, v, ok := w.pick(ev)
		if !ok {
			if w.update == nil {
				return nil
			}
			if id, v, ok := w.update(ev); ok && shown[id] {
				return printWatched(a.stdout, jsonOut, v, w.updateLine)
			}
			return nil
		}
		if shown[id] {
			return nil
		}
		shown[id] = true
		if err := printWatched(a.stdout, jsonOut, v, w.line); err != nil {
			return err
		}
		if w.counts(v) {
			n++
		}
		if until > 0 && n >= until {
			return errStopWatch
		}
		return nil
	})
	if errors.Is(err, errStopWatch) {
		return nil
	}
	return err // errWatchInterrupted when Ctrl-C ended the watch
}

// printWatched prints what a watch shows: one JSON object a line with
// --json, else line's text.
func printWatched[T any](w io.Writer, jsonOut bool, v T, line func(io.Writer, T)) error {
	if !jsonOut {
		line(w, v)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// errStopWatch ends an event stream from its callback.
var errStopWatch = errors.New("stop watching")
