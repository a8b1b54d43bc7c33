package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v3"
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
