package intent

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestDraftCheck is the table of input rules for an intent draft: each
// bad input names its field and says, in words, what would be right.
func TestDraftCheck(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Draft)
		field  Field  // "" means valid
		says   string // a substring of the message
	}{
		{"valid", func(*Draft) {}, "", ""},
		{"no region is anywhere", func(d *Draft) { d.Want.Region = "" }, "", ""},
		{"a subdivision", func(d *Draft) { d.Want.Region = "US-CA" }, "", ""},
		{"a zero-decimal currency", func(d *Draft) { d.Want.Currency = "JPY" }, "", ""},
		{"no category", func(d *Draft) { d.Category = "" }, FieldCategory, "Choose a category"},
		{"unknown category", func(d *Draft) { d.Category = "toys" }, FieldCategory, `"toys" is not a category`},
		{"bad path", func(d *Draft) { d.Path = []string{"Laptops"} }, FieldPath, `"Laptops"`},
		{"deep path", func(d *Draft) { d.Path = []string{"a", "b", "c", "d", "e"} }, FieldPath, "at most 4"},
		{"empty text", func(d *Draft) { d.Text = "" }, FieldText, "the description is empty"},
		{"blank text", func(d *Draft) { d.Text = " \n\t" }, FieldText, "the description is empty"},
		{"100 KB text", func(d *Draft) { d.Text = strings.Repeat("x", 100<<10) }, FieldText, "102400 bytes long; at most 1024 bytes fit"},
		{"text not UTF-8", func(d *Draft) { d.Text = "\xff" }, FieldText, "not valid UTF-8"},
		{"quantity 0", func(d *Draft) { d.Want.Quantity = 0 }, FieldQuantity, "at least 1"},
		{"quantity too large", func(d *Draft) { d.Want.Quantity = MaxQuantity + 1 }, FieldQuantity, "at most"},
		{"price ceiling 0", func(d *Draft) { d.Want.MaxPrice = 0 }, FieldMaxPrice, "must be more than 0"},
		{"price ceiling too large", func(d *Draft) { d.Want.MaxPrice = MaxPrice + 1 }, FieldMaxPrice, "too large"},
		{"no currency", func(d *Draft) { d.Want.Currency = "" }, FieldCurrency, "Give a currency"},
		{"currency XYZ", func(d *Draft) { d.Want.Currency = "XYZ" }, FieldCurrency, `"XYZ" is not a currency code`},
		{"currency in small letters", func(d *Draft) { d.Want.Currency = "eur" }, FieldCurrency, `"eur" is not a currency code`},
		{"currency XXX (no currency)", func(d *Draft) { d.Want.Currency = "XXX" }, FieldCurrency, "ISO 4217"},
		{"region XX", func(d *Draft) { d.Want.Region = "XX" }, FieldRegion, `"XX" is not a country code`},
		{"region in small letters", func(d *Draft) { d.Want.Region = "de" }, FieldRegion, `"de" is not a country code`},
		{"unknown subdivision", func(d *Draft) { d.Want.Region = "DE-XX" }, FieldRegion, "not a subdivision of DE"},
		{"delivery in the past", func(d *Draft) { d.Want.DeliverBy = d.Created.Add(-time.Hour).Unix() }, FieldDeliverBy, "has passed"},
		{"no lifetime", func(d *Draft) { d.Expires = d.Created }, FieldExpires, "some time"},
		{"too long a lifetime", func(d *Draft) { d.Expires = d.Created.Add(31 * 24 * time.Hour) }, FieldExpires, "at most 30 days"},
		{"unknown term", func(d *Draft) { d.Terms.IDs = []TermID{99} }, FieldTerms, "no-tracking"},
		{"too many custom terms", func(d *Draft) {
			d.Terms.Custom = map[string]string{}
			for _, k := range strings.Split("abcdefghi", "") {
				d.Terms.Custom[k] = "v"
			}
		}, FieldCustomTerms, "at most 8"},
		{"custom term without a name", func(d *Draft) { d.Terms.Custom = map[string]string{" ": "v"} }, FieldCustomTerms, "Name each term"},
		{"long custom term", func(d *Draft) { d.Terms.Custom = map[string]string{"k": strings.Repeat("v", 300)} }, FieldCustomTerms, "300 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDraft()
			tt.mutate(&d)
			checkFieldError(t, d.Check(), tt.field, tt.says)
		})
	}
}

// TestOfferDraftCheck is the table of input rules for an offer draft.
func TestOfferDraftCheck(t *testing.T) {
	want := testDraft().Want // 1200.00 EUR
	tests := []struct {
		name   string
		mutate func(*OfferDraft)
		field  Field
		says   string
	}{
		{"valid", func(*OfferDraft) {}, "", ""},
		{"the intent's currency by default", func(d *OfferDraft) { d.Currency = "" }, "", ""},
		{"at the ceiling", func(d *OfferDraft) { d.Price = 120000 }, "", ""},
		{"price 0", func(d *OfferDraft) { d.Price = 0 }, FieldPrice, "must be more than 0"},
		{"over the ceiling", func(d *OfferDraft) { d.Price = 130000 }, FieldPrice, "1300.00 EUR is over the customer's ceiling of 1200.00 EUR"},
		{"another currency", func(d *OfferDraft) { d.Currency = "USD" }, FieldCurrency, "asks for prices in EUR"},
		{"100 KB text", func(d *OfferDraft) { d.Text = strings.Repeat("x", 100<<10) }, FieldText, "at most 1024 bytes fit"},
		{"held for no time", func(d *OfferDraft) { d.ValidUntil = d.Created }, FieldValidFor, "some time"},
		{"held too long", func(d *OfferDraft) { d.ValidUntil = d.Created.Add(31 * 24 * time.Hour) }, FieldValidFor, "at most 30 days"},
		{"long vendor name", func(d *OfferDraft) { d.Vendor.Name = strings.Repeat("n", 65) }, FieldVendorName, "at most 64"},
		{"long vendor URL", func(d *OfferDraft) { d.Vendor.URL = strings.Repeat("u", 257) }, FieldVendorURL, "at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := OfferDraft{Price: 99990, Currency: "EUR", Text: "in stock", Vendor: Vendor{Name: "Kiez"}, Created: t0, ValidUntil: t0.Add(24 * time.Hour)}
			tt.mutate(&d)
			checkFieldError(t, d.Check(want), tt.field, tt.says)
		})
	}
}

func checkFieldError(t *testing.T, err error, field Field, says string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("Check = %v, want nil", err)
		}
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, ErrInput) {
		t.Fatalf("Check = %v (%T), want a *FieldError wrapping ErrInput", err, err)
	}
	if fe.Field != field || !strings.Contains(fe.Msg, says) {
		t.Errorf("Check = %s: %q, want %s: ...%q...", fe.Field, fe.Msg, field, says)
	}
	// A sentence for a person: no API names, no Go syntax.
	for _, jargon := range []string{"_", "minor units", "%!"} {
		if strings.Contains(fe.Msg, jargon) && !strings.Contains(says, jargon) {
			t.Errorf("message %q holds %q", fe.Msg, jargon)
		}
	}
}

// TestCodeTables checks the embedded ISO lists against codes everyone
// knows, and that the wire's shape rules accept every listed code.
func TestCodeTables(t *testing.T) {
	for _, c := range []string{"EUR", "USD", "JPY", "GBP", "CHF", "KWD", "XOF", "XCG"} {
		if !KnownCurrency(c) {
			t.Errorf("currency %s is not known", c)
		}
		if CheckCurrency(c) != nil {
			t.Errorf("the wire refuses listed currency %s", c)
		}
	}
	for _, c := range []string{"XYZ", "XXX", "XTS", "XAU", "eur", "EU", "EURO", "HRK"} {
		if KnownCurrency(c) {
			t.Errorf("currency %q is known", c)
		}
	}
	if d := CurrencyDecimals("JPY"); d != 0 {
		t.Errorf("JPY has %d decimals", d)
	}
	if d := CurrencyDecimals("KWD"); d != 3 {
		t.Errorf("KWD has %d decimals", d)
	}
	for _, r := range []string{"DE", "US", "FR", "JP", "US-CA", "DE-BE", "GB-ENG"} {
		if !KnownRegion(r) {
			t.Errorf("region %s is not known", r)
		}
	}
	for _, r := range []string{"XX", "de", "EU", "DE-XX", "D", "DEU"} {
		if KnownRegion(r) {
			t.Errorf("region %q is known", r)
		}
	}
	if RegionName("DE") != "Germany" {
		t.Errorf("RegionName(DE) = %q", RegionName("DE"))
	}
	n := 0
	for code := range regionNames {
		if CheckRegion(code) != nil {
			t.Errorf("the wire refuses listed region %s", code)
		}
		n++
	}
	if n < 5000 {
		t.Errorf("%d region codes, want the 249 countries and their 5000-odd subdivisions", n)
	}
	for code := range currencyDecimals {
		if CheckCurrency(code) != nil {
			t.Errorf("the wire refuses listed currency %s", code)
		}
	}
}
