package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) dealCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "deal",
		Usage: "export a deal as a record anyone can verify, or verify one",
		Description: `A deal record holds your intent, the vendor's signed offer and the accept,
each with its signature. Anyone can check it offline with 'deal verify': it
proves that the vendor's key made that offer and that the intent's author
accepted exactly it. It names neither customer nor vendor beyond their keys
and the vendor's own name; the accept's details stay sealed to the vendor.
Customer and vendor export the same bytes.

Examples:
  intentcast deal export 3f2a9c
  intentcast deal export 3f2a9c --out deal.cbor
  intentcast deal verify deal-3f2a9c0d1e2f.cbor`,
		Commands: []*ucli.Command{
			{
				Name:      "export",
				Usage:     "write the record of one of your deals to a file (the daemon must run)",
				ArgsUsage: "INTENT",
				Description: `INTENT is the deal's intent ID or a prefix of it ('intentcast deals' lists
them). The record is checked before it is written.

Examples:
  intentcast deal export 3f2a9c
  intentcast deal export 3f2a9c --out deal.cbor --force
  intentcast deal export 3f2a9c --out - | base64`,
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, TakesFile: true,
						Usage: "file to write; - writes to stdout", DefaultText: "deal-<intent>.cbor in the current directory"},
					&ucli.BoolFlag{Name: "force", Usage: "overwrite the file if it exists"},
				},
				Action: a.dealExport,
			},
			{
				Name:      "verify",
				Usage:     "check a deal record's every signature and binding, offline",
				ArgsUsage: "FILE",
				Description: `Needs no daemon, no network and no store: only the file. Prints each check
and, if one fails, which one and why (exit status 1).

Examples:
  intentcast deal verify deal-3f2a9c0d1e2f.cbor
  intentcast deal verify deal.cbor --json`,
				Action: a.dealVerify,
			},
		},
	}
}

func (a *app) dealExport(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT")
	if err != nil {
		return err
	}
	out, force := cmd.String("out"), cmd.Bool("force")
	if out == "-" {
		if cmd.Bool(flagJSON) {
			return usagef(cmd, "--out - writes the record itself to stdout, which leaves no room for --json; give --out FILE, or drop --json")
		}
		if isTerminal(a.stdout) {
			return usagef(cmd, "--out -: a deal record is binary; redirect stdout to a file or pipe, or give --out FILE")
		}
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (exportResult, error) {
		id, err := c.dealIntentID(ctx, cmd, args[0])
		if err != nil {
			return exportResult{}, err
		}
		raw, err := c.DealRecord(ctx, id)
		if err != nil {
			return exportResult{}, err
		}
		// Check what the daemon sent, so that nothing is written that a
		// verifier would refuse (a daemon of another version, say).
		rec, err := intent.VerifyDealRecord(raw, time.Now())
		if err != nil {
			return exportResult{}, fmt.Errorf("the daemon's record of intent %s does not verify, nothing written: %w", short(id), err)
		}
		res := exportResult{File: out, Bytes: len(raw), RecordID: rec.ID.String(), Deal: dealSummaryOf(rec)}
		if out == "-" {
			_, err := a.stdout.Write(raw)
			return res, err
		}
		if res.File == "" {
			res.File = "deal-" + rec.Intent.ID.Short() + ".cbor"
		}
		return res, writeRecordFile(res.File, raw, force)
	}, func(_ *conn, res exportResult) error {
		if res.File == "-" {
			return nil // the record is the output
		}
		d := res.Deal
		fmt.Fprintf(a.stdout, "wrote %s (%d bytes): the deal of intent %s with %s for %s\n",
			res.File, res.Bytes, short(d.IntentID), printable(d.Vendor), price(d.Price, printable(d.Currency)))
		fmt.Fprintf(a.stdout, "anyone can check it offline: intentcast deal verify %s\n", res.File)
		return nil
	})
}

// exportResult is what deal export --json prints.
type exportResult struct {
	File     string      `json:"file"`
	Bytes    int         `json:"bytes"`
	RecordID string      `json:"record_id"`
	Deal     dealSummary `json:"deal"`
}

// writeRecordFile writes raw to path through a temporary file and a
// rename, so a crash never leaves half a record under the name. Without
// force an existing file is kept and the export refused.
func writeRecordFile(path string, raw []byte, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists; pass --force to overwrite it or --out another file", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("write the deal record: %w", err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".deal-*.tmp")
	if err != nil {
		return fmt.Errorf("write the deal record: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("write the deal record to %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write the deal record to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the deal record to %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write the deal record to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write the deal record to %s: %w", path, err)
	}
	return nil
}

// dealIntentID resolves an intent ID or prefix among this node's deals.
func (c *conn) dealIntentID(ctx context.Context, cmd *ucli.Command, arg string) (string, error) {
	return resolveAmong(ctx, c, cmd, arg, c.Deals, func(d client.DealView) string { return d.IntentID }, "deal", "intentcast deals")
}
