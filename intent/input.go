package intent

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Input rules: what a person may put in a draft, checked before anything is
// minted, signed or sent. They are the wire rules (a node refuses anything
// that breaks those anyway) plus what only the author can be held to: a
// currency on ISO 4217's list and a region on ISO 3166's, a price above
// zero, a text that says something. Every user interface (the API, the CLI,
// the web page) takes its rules from here and maps Field to its own name
// for the input: an error code, a flag, a form field.

// ErrInput is wrapped by every FieldError.
var ErrInput = errors.New("bad input")

// Field names one input of a draft. The values are the API's JSON names.
type Field string

// The fields of an intent draft, of an offer draft and of a vendor's
// filter.
const (
	FieldCategory    Field = "category"
	FieldPath        Field = "path"
	FieldText        Field = "text"
	FieldQuantity    Field = "quantity"
	FieldMaxPrice    Field = "max_price"
	FieldCurrency    Field = "currency"
	FieldRegion      Field = "region"
	FieldDeliverBy   Field = "deliver_by"
	FieldExpires     Field = "expires_in"
	FieldTerms       Field = "terms"
	FieldCustomTerms Field = "custom_terms"

	FieldPrice      Field = "price"
	FieldValidFor   Field = "valid_for"
	FieldVendorName Field = "vendor_name"
	FieldVendorURL  Field = "vendor_url"

	FieldMinPrice Field = "min_price"
)

// FieldError is a problem with one input, said in a plain sentence for the
// person who typed it: what is wrong and what would be right. It names no
// API field or flag; each interface shows it next to its own.
type FieldError struct {
	Field Field
	Msg   string
}

func (e *FieldError) Error() string { return e.Msg }
func (e *FieldError) Unwrap() error { return ErrInput }

// FieldErrorf builds a FieldError with a formatted sentence: the input
// rules' own, and those of an interface (the API's request shapes) that
// checks more than the rules do.
func FieldErrorf(f Field, format string, args ...any) *FieldError {
	return &FieldError{Field: f, Msg: fmt.Sprintf(format, args...)}
}

// Check applies the input rules to a draft as a person filled it in,
// codes already in capitals. It returns the first problem as a
// *FieldError.
func (d *Draft) Check() error {
	if d.Category == "" {
		return FieldErrorf(FieldCategory, "Choose a category: %s.", strings.Join(Categories, ", "))
	}
	if CheckCategory(d.Category) != nil {
		return FieldErrorf(FieldCategory, "%q is not a category; choose one of %s.", d.Category, strings.Join(Categories, ", "))
	}
	if err := CheckPathInput(d.Path); err != nil {
		return err
	}
	if err := CheckText(FieldText, d.Text); err != nil {
		return err
	}
	if strings.TrimSpace(d.Text) == "" {
		return FieldErrorf(FieldText, "Say what you want: the description is empty.")
	}
	w := d.Want
	if w.Quantity == 0 {
		return FieldErrorf(FieldQuantity, "The quantity must be at least 1.")
	}
	if w.Quantity > MaxQuantity {
		return FieldErrorf(FieldQuantity, "The quantity is %d; at most %d fit.", w.Quantity, MaxQuantity)
	}
	if err := CheckCurrencyInput(w.Currency); err != nil {
		return err
	}
	if w.MaxPrice == 0 {
		return FieldErrorf(FieldMaxPrice, "The price ceiling must be more than 0.")
	}
	if w.MaxPrice > MaxPrice {
		return FieldErrorf(FieldMaxPrice, "The price ceiling is too large; at most %s %s.", FormatAmount(MaxPrice, w.Currency), w.Currency)
	}
	if err := CheckRegionInput(FieldRegion, w.Region); err != nil {
		return err
	}
	if w.DeliverBy != 0 && w.DeliverBy <= d.Created.Unix() {
		return FieldErrorf(FieldDeliverBy, "The delivery date has passed; give one in the future.")
	}
	switch life := d.Expires.Sub(d.Created); {
	case life <= 0:
		return FieldErrorf(FieldExpires, "The intent must stay live for some time, such as 72 hours.")
	case life > MaxLifetime:
		return FieldErrorf(FieldExpires, "An intent stays live for at most 30 days; this one asks for %s.", life)
	}
	return CheckTerms(d.Terms)
}

// CheckTerms applies the input rules to terms (an intent's, or those a
// counter asks for): roster IDs, and the number and size of custom terms.
func CheckTerms(t Terms) error {
	for _, id := range t.IDs {
		if id == 0 || id > maxRosterTermID {
			return FieldErrorf(FieldTerms, "Pick terms from the list: %s.", strings.Join(termNames(), ", "))
		}
	}
	if len(t.Custom) > MaxCustomTerms {
		return FieldErrorf(FieldCustomTerms, "There are %d terms of your own; at most %d fit.", len(t.Custom), MaxCustomTerms)
	}
	for k, v := range t.Custom {
		if strings.TrimSpace(k) == "" || len(k) > MaxCustomKey || !utf8.ValidString(k) {
			return FieldErrorf(FieldCustomTerms, "Name each term of your own in 1 to %d bytes of text; %q does not fit.", MaxCustomKey, k)
		}
		if len(v) > MaxCustomValue || !utf8.ValidString(v) {
			return FieldErrorf(FieldCustomTerms, "The term %q is %d bytes long; at most %d fit.", k, len(v), MaxCustomValue)
		}
	}
	return nil
}

// Check applies the input rules to an offer draft answering want. A
// Currency left empty means want's.
func (d *OfferDraft) Check(want Want) error {
	cur := d.Currency
	if cur == "" {
		cur = want.Currency
	}
	if cur != want.Currency {
		return FieldErrorf(FieldCurrency, "The customer asks for prices in %s; an offer in %s would be refused.", want.Currency, cur)
	}
	if d.Price == 0 {
		return FieldErrorf(FieldPrice, "The price must be more than 0.")
	}
	if d.Price > want.MaxPrice {
		return FieldErrorf(FieldPrice, "%s %s is over the customer's ceiling of %s %s; their node would refuse the offer.",
			FormatAmount(d.Price, cur), cur, FormatAmount(want.MaxPrice, cur), cur)
	}
	if err := CheckText(FieldText, d.Text); err != nil {
		return err
	}
	if !d.ValidUntil.IsZero() {
		switch ttl := d.ValidUntil.Sub(d.Created); {
		case ttl <= 0:
			return FieldErrorf(FieldValidFor, "The offer must hold for some time, such as 24 hours.")
		case ttl > MaxOfferTTL:
			return FieldErrorf(FieldValidFor, "An offer holds for at most 30 days; this one asks for %s.", ttl)
		}
	}
	if len(d.Vendor.Name) > MaxVendorName || !utf8.ValidString(d.Vendor.Name) {
		return FieldErrorf(FieldVendorName, "The vendor name is %d bytes long; at most %d fit.", len(d.Vendor.Name), MaxVendorName)
	}
	if len(d.Vendor.URL) > MaxVendorURL {
		return FieldErrorf(FieldVendorURL, "The vendor's web address is %d bytes long; at most %d fit.", len(d.Vendor.URL), MaxVendorURL)
	}
	return nil
}

// CheckPathInput holds a sub-category path (an intent's or a filter's) to
// the protocol's rules, in words.
func CheckPathInput(path []string) error {
	if len(path) > MaxPathDepth {
		return FieldErrorf(FieldPath, "The sub-category has %d levels; at most %d fit.", len(path), MaxPathDepth)
	}
	for _, s := range path {
		if checkPathSegment(s) != nil {
			return FieldErrorf(FieldPath, "Write the sub-category %q with 1 to %d small letters, digits or '-', such as \"laptops\".", s, MaxPathSegment)
		}
	}
	return nil
}

// CheckText holds a free text (an intent's or an offer's) to the
// protocol's bound, in words.
func CheckText(f Field, s string) error {
	if !utf8.ValidString(s) {
		return FieldErrorf(f, "The text is not valid UTF-8; paste it as plain text.")
	}
	if len(s) > MaxText {
		return FieldErrorf(f, "The text is %d bytes long; at most %d bytes fit (%d letters of English, fewer in scripts that take more bytes a letter).", len(s), MaxText, MaxText)
	}
	return nil
}

// CheckCurrencyInput holds a currency code to ISO 4217's list.
func CheckCurrencyInput(code string) error {
	switch {
	case code == "":
		return FieldErrorf(FieldCurrency, "Give a currency: a three-letter code such as EUR or USD.")
	case !KnownCurrency(code):
		return FieldErrorf(FieldCurrency, "%q is not a currency code; use one from ISO 4217, such as EUR, USD or JPY.", code)
	}
	return nil
}

// CheckMinPriceInput holds a filter's minimum price (in minor units) to
// the currencies the filter takes: a minimum price is in one currency, as
// amounts in different currencies (10 EUR, 10 USD, 1000 JPY) cannot be
// compared, nor even their minor units (JPY has none, BHD three).
func CheckMinPriceInput(minPrice uint64, currencies []string) error {
	if minPrice > 0 && len(currencies) != 1 {
		return FieldErrorf(FieldMinPrice, "A minimum price needs exactly one currency to go with it: amounts in different currencies cannot be compared.")
	}
	return nil
}

// CheckRegionInput holds a region code to ISO 3166's lists; "" means
// anywhere.
func CheckRegionInput(f Field, code string) error {
	if code == "" || KnownRegion(code) {
		return nil
	}
	if country, _, sub := strings.Cut(code, "-"); sub && KnownRegion(country) {
		return FieldErrorf(f, "%q is not a subdivision of %s; use a code from ISO 3166-2 such as US-CA, or just %s.", code, country, country)
	}
	return FieldErrorf(f, "%q is not a country code; use one from ISO 3166, such as DE or FR, or a subdivision such as US-CA.", code)
}

func termNames() []string {
	names := make([]string, len(Roster))
	for i, t := range Roster {
		names[i] = t.Name
	}
	return names
}
