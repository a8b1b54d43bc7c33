package api

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/intentcast/intentcast/intent"
)

// The wire protocol carries prices in minor units (cents); people think in
// major units ("1200.50"). How many decimals lie between the two depends on
// the currency (ISO 4217's minor unit column). Most currencies have 2; the
// exceptions in use are below. An unknown code gets 2: the protocol accepts
// any three upper-case letters, and a wrong guess only changes where the
// decimal point is shown, never the amount on the wire.
var exponents = map[string]int{
	// No minor unit.
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0,
	"XAF": 0, "XOF": 0, "XPF": 0,
	// Three decimals.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// Four decimals (units of account).
	"CLF": 4, "UYW": 4,
}

// defaultExponent is the minor unit of every currency not in exponents.
const defaultExponent = 2

// exponent returns the number of decimals of currency's minor unit.
func exponent(currency string) int {
	if e, ok := exponents[currency]; ok {
		return e
	}
	return defaultExponent
}

// currencyHints lists the currencies whose exponent is not the default,
// plus the most common ones, for GET /v1/protocol.
func currencyHints() []CurrencyInfo {
	out := []CurrencyInfo{{"EUR", 2}, {"USD", 2}, {"GBP", 2}, {"CHF", 2}, {"CNY", 2}, {"INR", 2}}
	for c, e := range exponents {
		out = append(out, CurrencyInfo{c, e})
	}
	slices.SortFunc(out[6:], func(a, b CurrencyInfo) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// ParseAmount parses a decimal amount in currency's major unit ("1200.50",
// "1200", "0.5") into minor units. It accepts digits with at most one '.'
// and no more decimals than the currency has; no sign, exponent, spaces or
// thousands separators, because "1,200" means 1.2 in half the world.
func ParseAmount(s, currency string) (uint64, error) {
	exp := exponent(currency)
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case s == "":
		return 0, fmt.Errorf("amount is empty; give a number such as %s", example(currency))
	case whole == "" || dot && frac == "":
		return 0, fmt.Errorf("amount %q needs digits on both sides of the '.', such as %s", s, example(currency))
	case !digits(whole) || !digits(frac):
		return 0, fmt.Errorf("amount %q is not a number: use digits and at most one '.', such as %s (no sign, spaces or thousands separators)", s, example(currency))
	case len(frac) > exp:
		if exp == 0 {
			return 0, fmt.Errorf("amount %q has decimals, but %s has no minor unit", s, currency)
		}
		return 0, fmt.Errorf("amount %q has %d decimals, but %s has %d", s, len(frac), currency, exp)
	}
	frac += strings.Repeat("0", exp-len(frac))
	v, err := strconv.ParseUint(whole+frac, 10, 64)
	if err != nil || v > intent.MaxPrice {
		return 0, fmt.Errorf("amount %q is too large: at most %s %s", s, FormatAmount(intent.MaxPrice, currency), currency)
	}
	return v, nil
}

// FormatAmount formats minor units as a decimal in currency's major unit,
// always with all of the currency's decimals: 120050 EUR is "1200.50".
func FormatAmount(minor uint64, currency string) string {
	exp := exponent(currency)
	s := strconv.FormatUint(minor, 10)
	if exp == 0 {
		return s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// example is a valid amount in currency, for error messages.
func example(currency string) string {
	return `"` + FormatAmount(uint64(math.Pow10(exponent(currency)))*1200+uint64(math.Pow10(exponent(currency)))/2, currency) + `"`
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// amount resolves the two ways a request can give a price: a decimal
// string in major units or an integer in minor units. Exactly one must be
// set. what names the field pair in errors.
func amount(major string, minor *uint64, currency, what string) (uint64, error) {
	switch {
	case major != "" && minor != nil:
		return 0, fmt.Errorf("give %s or %s_minor, not both", what, what)
	case minor != nil:
		if *minor > intent.MaxPrice {
			return 0, fmt.Errorf("%s_minor %d is over the protocol's maximum of %d minor units", what, *minor, uint64(intent.MaxPrice))
		}
		return *minor, nil
	case major == "":
		return 0, fmt.Errorf("%s is required: a decimal in major units such as %s, or %s_minor in minor units", what, example(currency), what)
	}
	v, err := ParseAmount(major, currency)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}
