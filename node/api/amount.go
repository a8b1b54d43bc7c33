package api

import (
	"slices"
	"strings"

	"github.com/intentcast/intentcast/intent"
)

// currencyHints lists the common currencies and those whose number of
// decimals is not 2, for GET /v1/protocol.
func currencyHints() []CurrencyInfo {
	out := []CurrencyInfo{{"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"CHF", 2}, {"CNY", 2}, {"INR", 2}}
	var odd []CurrencyInfo
	for _, c := range intent.Currencies() {
		if e := intent.CurrencyDecimals(c); e != 2 {
			odd = append(odd, CurrencyInfo{c, e})
		}
	}
	slices.SortFunc(odd, func(a, b CurrencyInfo) int { return strings.Compare(a.Code, b.Code) })
	return append(out, odd...)
}

// amount resolves the two ways a request can give a price: a decimal
// string in major units or an integer in minor units. Exactly one must be
// set. f is the input the price is; name is its request field, for the
// one mistake only an API caller can make (giving both).
func amount(major string, minor *uint64, currency string, f intent.Field, name string) (uint64, error) {
	switch {
	case major != "" && minor != nil:
		return 0, badField(f, "Give %s or %s_minor, not both.", name, name)
	case minor != nil:
		if *minor > intent.MaxPrice {
			return 0, badField(f, "The amount is too large; at most %s %s.", intent.FormatAmount(intent.MaxPrice, currency), currency)
		}
		return *minor, nil
	}
	v, err := intent.ParseAmount(major, currency)
	if err != nil {
		return 0, &intent.FieldError{Field: f, Msg: err.Error()}
	}
	return v, nil
}
