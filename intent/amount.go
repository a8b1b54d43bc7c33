package intent

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The wire carries prices in minor units (cents); people think in major
// units ("1200.50"). How many decimals lie between the two is the
// currency's (CurrencyDecimals).

// ParseAmount parses a decimal amount in currency's major unit ("1200.50",
// "1200", "0.5") into minor units. It accepts digits with at most one '.'
// and no more decimals than the currency has; no sign, exponent, spaces or
// thousands separators, because "1,200" means 1.2 in half the world. An
// empty currency means "some currency with 2 decimals". The error is a
// sentence for the person who typed s.
func ParseAmount(s, currency string) (uint64, error) {
	exp := CurrencyDecimals(currency)
	whole, frac, dot := strings.Cut(s, ".")
	switch {
	case s == "":
		return 0, fmt.Errorf("Give an amount, such as %s.", example(currency))
	case strings.HasPrefix(s, "-") && isNumber(s[1:]):
		return 0, errors.New("An amount cannot be negative.")
	case !digits(whole) || !digits(frac):
		return 0, fmt.Errorf("Write the amount with digits and at most one '.', such as %s (no sign, spaces or thousands separators).", example(currency))
	case whole == "" || dot && frac == "":
		return 0, fmt.Errorf("Write digits on both sides of the '.', such as %s.", example(currency))
	case len(frac) > exp:
		return 0, fmt.Errorf("%s has %s; %s.", s, decimals(len(frac)), decimalsRule(currency))
	}
	frac += strings.Repeat("0", exp-len(frac))
	v, err := strconv.ParseUint(whole+frac, 10, 64)
	if err != nil || v > MaxPrice {
		return 0, fmt.Errorf("%s is too large; at most %s.", s, FormatAmount(MaxPrice, currency))
	}
	return v, nil
}

// decimalsRule says how many decimals currency allows.
func decimalsRule(currency string) string {
	switch exp := CurrencyDecimals(currency); {
	case currency == "":
		return "an amount has at most " + decimals(exp)
	case exp == 0:
		return currency + " has no decimals"
	default:
		return currency + " has at most " + decimals(exp)
	}
}

func decimals(n int) string {
	if n == 1 {
		return "1 decimal"
	}
	return strconv.Itoa(n) + " decimals"
}

// FormatAmount formats minor units as a decimal in currency's major unit,
// always with all of the currency's decimals: 120050 EUR is "1200.50".
func FormatAmount(minor uint64, currency string) string {
	exp := CurrencyDecimals(currency)
	s := strconv.FormatUint(minor, 10)
	if exp == 0 {
		return s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// example is a valid amount in currency, for messages.
func example(currency string) string {
	unit := uint64(math.Pow10(CurrencyDecimals(currency)))
	return FormatAmount(unit*1200+unit/2, currency)
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isNumber reports whether s is digits with at most one '.'.
func isNumber(s string) bool {
	whole, frac, _ := strings.Cut(s, ".")
	return whole != "" && digits(whole) && digits(frac)
}
