package cli

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/intent"
)

// Results of one check, as deal verify prints them.
const (
	checkOK     = "ok"
	checkFailed = "failed"
	checkNotRun = "not run"
)

// verifyResult is what deal verify --json prints.
type verifyResult struct {
	File     string        `json:"file"`
	Valid    bool          `json:"valid"`
	Failed   string        `json:"failed_check,omitempty"`
	Error    string        `json:"error,omitempty"`
	Checks   []checkResult `json:"checks"`
	RecordID string        `json:"record_id,omitempty"`
	Deal     *dealSummary  `json:"deal,omitempty"`
}

type checkResult struct {
	Check  string `json:"check"`
	Result string `json:"result"` // ok, failed or not run
}

// dealSummary is what a verified record shows. Every text in it comes from
// whoever made the record: it is shown as data, never trusted as markup.
type dealSummary struct {
	IntentID   string    `json:"intent_id"`
	Category   string    `json:"category"`
	IntentText string    `json:"intent_text,omitempty"`
	OfferID    string    `json:"offer_id"` // of the sealed offer the accept names
	Vendor     string    `json:"vendor"`
	VendorURL  string    `json:"vendor_url,omitempty"`
	VendorKey  string    `json:"vendor_key"` // hex Ed25519 public key
	Price      string    `json:"price"`
	PriceMinor uint64    `json:"price_minor"`
	Currency   string    `json:"currency"`
	OfferText  string    `json:"offer_text,omitempty"`
	Offered    time.Time `json:"offered"`
	Accepted   time.Time `json:"accepted"`
}

func dealSummaryOf(rec *intent.DealRecord) dealSummary {
	in, o := rec.Intent.Body, rec.Offer.Body
	return dealSummary{
		IntentID: rec.Intent.ID.String(), Category: strings.Join(append([]string{in.Category}, in.Path...), "/"),
		IntentText: in.Text, OfferID: rec.Accept.OfferID.String(),
		Vendor: o.Vendor.Name, VendorURL: o.Vendor.URL, VendorKey: hex.EncodeToString(o.VendorKey),
		Price: intent.FormatAmount(o.Price, o.Currency), PriceMinor: o.Price, Currency: o.Currency, OfferText: o.Text,
		Offered: time.Unix(o.Created, 0).UTC(), Accepted: time.Unix(rec.Accept.Body.Created, 0).UTC(),
	}
}

func (a *app) dealVerify(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "FILE")
	if err != nil {
		return err
	}
	raw, err := readRecordFile(args[0])
	if err != nil {
		return err
	}
	res := verifyResult{File: args[0]}
	rec, verr := intent.VerifyDealRecord(raw, time.Now())
	var failed *intent.DealError
	if verr != nil && !errors.As(verr, &failed) {
		return fmt.Errorf("verify %s: %w", args[0], verr)
	}
	reached := verr == nil
	for _, c := range intent.DealChecks {
		r := checkOK
		switch {
		case failed != nil && c == failed.Check:
			r, reached = checkFailed, true
		case failed != nil && reached:
			r = checkNotRun
		}
		res.Checks = append(res.Checks, checkResult{string(c), r})
	}
	if verr == nil {
		s := dealSummaryOf(rec)
		res.Valid, res.RecordID, res.Deal = true, rec.ID.String(), &s
	} else {
		res.Failed, res.Error = string(failed.Check), failed.Err.Error()
	}

	if cmd.Bool(flagJSON) {
		if err := printJSON(a.stdout, res); err != nil {
			return err
		}
	} else {
		printVerify(a.stdout, res)
	}
	if verr != nil {
		return fmt.Errorf("%s is not a valid deal record: %w", args[0], verr)
	}
	return nil
}

// readRecordFile reads a record, refusing anything larger than a record can
// be before reading it whole.
func readRecordFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the deal record: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, intent.MaxDealRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the deal record %s: %w", path, err)
	}
	if len(raw) > intent.MaxDealRecordSize {
		return nil, fmt.Errorf("%s is over %d bytes, the largest a deal record can be: not a deal record", path, intent.MaxDealRecordSize)
	}
	return raw, nil
}

func printVerify(w io.Writer, res verifyResult) {
	t := newTable(w, "CHECK", "RESULT")
	for _, c := range res.Checks {
		r := c.Result
		if r == checkFailed {
			r = "FAILED: " + printable(res.Error)
		}
		t.row(c.Check, r)
	}
	t.flush()
	if !res.Valid {
		return
	}
	d := res.Deal
	fmt.Fprintf(w, "\n%s is a valid deal record (record %s)\n", res.File, short(res.RecordID))
	t = newTable(w)
	t.row("intent", d.IntentID)
	t.row("category", printable(d.Category))
	if d.IntentText != "" {
		t.row("wanted", printable(truncate(d.IntentText, 80)))
	}
	t.row("offer", d.OfferID)
	t.row("vendor", printable(d.Vendor)+" "+printable(d.VendorURL))
	t.row("vendor key", d.VendorKey)
	t.row("price", formatPrice(d.PriceMinor, d.Currency))
	if d.OfferText != "" {
		t.row("offer text", printable(truncate(d.OfferText, 80)))
	}
	t.row("offered", d.Offered.Format(time.RFC3339))
	t.row("accepted", d.Accepted.Format(time.RFC3339))
	t.flush()
	fmt.Fprintln(w, "\nThis proves the vendor key made this offer and the intent's key accepted it; not that")
	fmt.Fprintln(w, "goods changed hands, nor that customer and vendor are different people.")
}

func formatPrice(minor uint64, currency string) string {
	return price(intent.FormatAmount(minor, currency), printable(currency))
}

// printable replaces control characters (terminal escapes among them) in
// text from a record, which anyone may have made.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
