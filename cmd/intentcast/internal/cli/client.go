package cli

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

// conn is an API client and where it points, for error messages.
type conn struct {
	*client.Client
	cmd        *ucli.Command // the command it serves, for errors naming its flags
	base       string        // base URL
	tokenSrc   string        // where the token came from: "--token" (or INTENTCAST_TOKEN) or a file
	tokenFound bool
}

// connect makes a client for the daemon the flags point at: --api (or
// INTENTCAST_API), else the address in DATA_DIR/api.addr, else
// 127.0.0.1:7733; --token (or INTENTCAST_TOKEN), else DATA_DIR/api.token
// (client.Locate).
func (a *app) connect(cmd *ucli.Command) (*conn, error) {
	d, err := client.Locate(cmd.String(flagAPI), cmd.String(flagToken), cmd.String(flagDataDir))
	switch {
	case errors.Is(err, client.ErrBadAddr):
		return nil, flagError(cmd, flagAPI, d.Addr, client.ErrBadAddr.Error())
	case err != nil:
		return nil, err
	}
	c := &conn{cmd: cmd, base: d.URL, tokenSrc: cmp.Or(d.TokenFile, "--token"), tokenFound: d.Token != ""}
	c.Client = client.New(d.URL, d.Token)
	return c, nil
}

// wrap turns a client error into one that says what to do about it. It
// wraps once: an error it has seen already passes through, so a command
// that resolves an ID (which wraps) and then calls the API wraps the same.
func (c *conn) wrap(err error) error {
	var done wrapped
	switch {
	case err == nil:
		return nil
	case errors.As(err, &done):
		return err
	case isUnreachable(err):
		return wrapped{&NoDaemonError{Addr: c.base, Err: err}}
	case apiStatus(err) == 401:
		hint := "check --token (or INTENTCAST_TOKEN): it must be the content of api.token in the daemon's data dir"
		if !c.tokenFound {
			hint = "no token found at " + c.tokenSrc + "; pass --token or INTENTCAST_TOKEN, or --data-dir of the daemon"
		} else if c.tokenSrc != "--token" {
			hint = "the token in " + c.tokenSrc + " is not this daemon's; pass --data-dir of the daemon at " + c.base + ", or --token"
		}
		return wrapped{fmt.Errorf("%w\n%s", err, hint)}
	case apiField(err) != "":
		return wrapped{inputError(c.cmd, err)}
	}
	return wrapped{err}
}

// wrapped marks an error conn.wrap has made; it reads as the error inside.
type wrapped struct{ error }

func (w wrapped) Unwrap() error { return w.error }

// isUnreachable reports whether err means nothing answered at the address.
func isUnreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// apiStatus returns the HTTP status of an API error, or 0.
func apiStatus(err error) int {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// isFullID reports whether s is a whole ID: 64 lower-case hex digits.
func isFullID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// resolveID finds the one ID among ids that starts with prefix. what names
// the kind of thing in errors; list is the command that shows them.
func resolveID(cmd *ucli.Command, prefix string, ids []string, what, list string) (string, error) {
	p := strings.ToLower(prefix)
	if p == "" {
		return "", usagef(cmd, "empty %s ID", what)
	}
	var found []string
	for _, id := range ids {
		if strings.HasPrefix(id, p) {
			if id == p {
				return id, nil
			}
			if !slices.Contains(found, id) { // a node's offer to its own intent lists twice
				found = append(found, id)
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no %s with ID %s; `%s` lists them: %w", what, prefix, list, ErrNotFound)
	case 1:
		return found[0], nil
	}
	shown := make([]string, 0, len(found))
	for _, id := range found {
		shown = append(shown, short(id))
	}
	return "", usagef(cmd, "%s ID %s is ambiguous (%s); give more digits", what, prefix, strings.Join(shown, ", "))
}

// resolveAmong resolves arg, an ID or a unique prefix of one, among the
// IDs (id) of the things list returns; a whole ID is taken as it is,
// without asking the daemon. what and listCmd name the things and the
// command that lists them, for errors.
func resolveAmong[T any](ctx context.Context, c *conn, cmd *ucli.Command, arg string, list func(context.Context) ([]T, error), id func(T) string, what, listCmd string) (string, error) {
	if isFullID(arg) {
		return arg, nil
	}
	things, err := list(ctx)
	if err != nil {
		return "", c.wrap(err)
	}
	ids := make([]string, len(things))
	for i, t := range things {
		ids[i] = id(t)
	}
	return resolveID(cmd, arg, ids, what, listCmd)
}

func intentID(in client.IntentView) string { return in.ID }
func offerID(o client.OfferView) string    { return o.ID }

// ownIntentID resolves an intent ID or prefix among this node's intents.
func (c *conn) ownIntentID(ctx context.Context, cmd *ucli.Command, arg string) (string, error) {
	return resolveAmong(ctx, c, cmd, arg, c.Intents, intentID, "intent", "intentcast intent list")
}

// offerID resolves an offer ID or prefix among an intent's offers.
func (c *conn) offerID(ctx context.Context, cmd *ucli.Command, intentID, arg string) (string, error) {
	offers := func(ctx context.Context) ([]client.OfferView, error) { return c.Offers(ctx, intentID) }
	return resolveAmong(ctx, c, cmd, arg, offers, offerID, "offer", "intentcast offers list "+short(intentID))
}

// feedIntentID resolves an intent ID or prefix among the vendor feed.
func (c *conn) feedIntentID(ctx context.Context, cmd *ucli.Command, arg string) (string, error) {
	return resolveAmong(ctx, c, cmd, arg, c.Feed, intentID, "live intent", "intentcast vendor feed")
}

// follow streams events to fn, reconnecting when the daemon ends the
// stream (a slow reader is cut off; reconnecting replays, so callers
// de-duplicate). It returns errWatchInterrupted when ctx ends (Ctrl-C),
// fn's error, or the error of a reconnect that fails (a stopped daemon:
// NoDaemonError).
func (c *conn) follow(ctx context.Context, fn func(client.EventView) error) error {
	for {
		err := c.Events(ctx, fn)
		switch {
		case ctx.Err() != nil:
			return errWatchInterrupted
		case err != nil:
			return c.wrap(err)
		}
		select {
		case <-ctx.Done():
			return errWatchInterrupted
		case <-time.After(time.Second):
		}
	}
}

// errWatchInterrupted ends a watch stopped by Ctrl-C: exit 130, as for any
// foreground command a person interrupts, with nothing more to say.
var errWatchInterrupted = errShown{fmt.Errorf("watch: %w", ErrInterrupted)}
