package api

import (
	"slices"
	"strings"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// currencyHints lists the common currencies and those whose number of
// decimals is not 2, for GET /v1/protocol.
func currencyHints() []client.CurrencyInfo {
	var out, odd []client.CurrencyInfo
	for _, c := range []string{"EUR", "USD", "GBP", "CHF", "CNY", "INR"} {
		out = append(out, client.CurrencyInfo{Code: c, Exponent: 2})
	}
	for _, c := range intent.Currencies() {
		if e := intent.CurrencyDecimals(c); e != 2 {
			odd = append(odd, client.CurrencyInfo{Code: c, Exponent: e})
		}
	}
	slices.SortFunc(odd, func(a, b client.CurrencyInfo) int { return strings.Compare(a.Code, b.Code) })
	return append(out, odd...)
}
