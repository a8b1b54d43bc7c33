package client

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// A request becomes a protocol draft here, held to intent's input rules,
// so that the server and every client (the CLI first) hold it to one set
// of rules before anything is signed or sent.

// defaultExpiresIn is how long an intent stays live when the request does
// not say.
const defaultExpiresIn = 72 * time.Hour

// Draft turns a publish request into a draft and holds it to the input
// rules (intent.Draft.Check): every problem is an *intent.FieldError,
// which the server answers with the field's code and a client can show
// next to its own input. Codes are read case-insensitively. The server
// and the CLI both call it, so that both hold a request to one set of
// rules.
func (req PublishRequest) Draft(now time.Time) (intent.Draft, error) {
	qty := req.Quantity
	if qty == 0 {
		qty = 1
	}
	currency := strings.ToUpper(strings.TrimSpace(req.Currency))
	d := intent.Draft{
		Category: req.Category,
		Path:     req.Path,
		Text:     req.Text,
		Want:     intent.Want{Quantity: qty, Currency: currency, Region: strings.ToUpper(strings.TrimSpace(req.Region))},
		Created:  now,
	}
	if err := intent.CheckCurrencyInput(currency); err != nil {
		return intent.Draft{}, err
	}
	price, err := amount(req.MaxPrice, req.MaxPriceMinor, currency, intent.FieldMaxPrice, "max_price")
	if err != nil {
		return intent.Draft{}, err
	}
	d.Want.MaxPrice = price
	life := defaultExpiresIn
	if req.ExpiresIn != "" {
		if life, err = parseDuration(req.ExpiresIn); err != nil || life <= 0 {
			return intent.Draft{}, intent.FieldErrorf(intent.FieldExpires, "Say how long the intent stays live as a duration, such as 72h or 7d; %q is not one.", req.ExpiresIn)
		}
	}
	d.Expires = now.Add(life)
	if req.DeliverBy != "" {
		t, err := parseDeadline(req.DeliverBy)
		if err != nil {
			return intent.Draft{}, err
		}
		d.Want.DeliverBy = t.Unix()
	}
	if d.Terms, err = termsFrom(req.Terms, req.CustomTerms); err != nil {
		return intent.Draft{}, err
	}
	if err := d.Check(); err != nil {
		return intent.Draft{}, err
	}
	if req.PostQuantum {
		d.Suite = crypto.SuiteXWing
	}
	return d, nil
}

// termsFrom resolves roster names; nil names mean the default terms. The
// custom terms are held to the input rules by Draft.Check.
func termsFrom(names []string, custom map[string]string) (intent.Terms, error) {
	t := intent.DefaultTerms()
	if names != nil {
		t.IDs = nil
		for _, name := range names {
			info, ok := intent.TermByName(name)
			if !ok {
				return intent.Terms{}, intent.FieldErrorf(intent.FieldTerms, "%q is not a term on the list; use any of %s.", name, strings.Join(rosterNames(), ", "))
			}
			t.IDs = append(t.IDs, info.ID)
		}
	}
	if len(custom) > 0 {
		t.Custom = custom
	}
	return t.Normalize(), nil
}

// rosterNames lists the names of every roster term.
func rosterNames() []string {
	out := make([]string, 0, len(intent.Roster))
	for _, r := range intent.Roster {
		out = append(out, r.Name)
	}
	return out
}

// parseDuration is time.ParseDuration plus whole days ("7d").
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseDeadline reads RFC 3339 or a date; a date means the end of that day
// in UTC, so "deliver by today" is not already past.
func parseDeadline(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Second), nil
	}
	return time.Time{}, intent.FieldErrorf(intent.FieldDeliverBy, "Give the delivery date as a date such as 2026-05-01, or a time such as 2026-05-01T12:00:00Z; %q is neither.", s)
}

// Draft turns an offer request into a draft and holds it to the
// input rules against the intent it answers (intent.OfferDraft.Check):
// the customer's node would refuse an offer in another currency or over
// the ceiling, so those are errors here, before anything is signed.
func (req OfferRequest) Draft(in *intent.SignedIntent, vendor intent.Vendor, vendorKnown bool, now time.Time) (intent.OfferDraft, error) {
	want := in.Body.Want
	currency := cmp.Or(strings.ToUpper(strings.TrimSpace(req.Currency)), want.Currency)
	d := intent.OfferDraft{Currency: currency, Text: req.Text, Created: now}
	if currency == want.Currency {
		price, err := amount(req.Price, req.PriceMinor, currency, intent.FieldPrice, "price")
		if err != nil {
			return intent.OfferDraft{}, err
		}
		d.Price = price
	}
	if req.ValidFor != "" {
		ttl, err := parseDuration(req.ValidFor)
		if err != nil || ttl <= 0 {
			return intent.OfferDraft{}, intent.FieldErrorf(intent.FieldValidFor, "Say how long the offer holds as a duration, such as 24h or 7d; %q is not one.", req.ValidFor)
		}
		d.ValidUntil = now.Add(ttl)
	}
	d.Vendor = intent.Vendor{Name: cmp.Or(req.VendorName, vendor.Name), URL: cmp.Or(req.VendorURL, vendor.URL)}
	if err := d.Check(want); err != nil {
		return intent.OfferDraft{}, err
	}
	// An offer outliving its intent could never be accepted.
	if exp := in.Body.ExpiresAt(); !d.ValidUntil.IsZero() && exp.Before(d.ValidUntil) {
		d.ValidUntil = exp
	}
	switch {
	case d.Vendor.Name == "" && !vendorKnown:
		d.Vendor = intent.Vendor{} // the node signs with its configured vendor
	case d.Vendor.Name == "":
		return intent.OfferDraft{}, intent.FieldErrorf(intent.FieldVendorName, "Say whom the offer is from: give a vendor name, or set the daemon's vendor name in its config.")
	}
	return d, nil
}

// amount resolves the two ways a request can give a price: a decimal
// string in major units or an integer in minor units. Exactly one must be
// set. f is the input the price is; name is its request field, for the
// one mistake only an API caller can make (giving both).
func amount(major string, minor *uint64, currency string, f intent.Field, name string) (uint64, error) {
	switch {
	case major != "" && minor != nil:
		return 0, intent.FieldErrorf(f, "Give %s or %s_minor, not both.", name, name)
	case minor != nil:
		if *minor > intent.MaxPrice {
			return 0, intent.FieldErrorf(f, "The amount is too large; at most %s %s.", intent.FormatAmount(intent.MaxPrice, currency), currency)
		}
		return *minor, nil
	}
	v, err := intent.ParseAmount(major, currency)
	if err != nil {
		return 0, &intent.FieldError{Field: f, Msg: err.Error()}
	}
	return v, nil
}
