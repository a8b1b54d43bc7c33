package api

import (
	"github.com/intentcast/intentcast/node/api/client"

	"io"
	"net/http"
	"strings"
	"testing"
)

// TestInputRules sends each bad input of the input rules' table
// (intent.Draft.Check) through HTTP: the answer has the field's code, the
// field, and the rules' plain sentence, never the API's own jargon.
// Codes are read case-insensitively.
func TestInputRules(t *testing.T) {
	a := startAPI(t, nodeOpts{vendor: "Acme"})
	const base = `"category":"electronics","currency":"EUR"`
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		code   string
		field  string
		says   string
	}{
		{"region de", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"100","region":"de"}`, 201, "", "", ""},
		{"currency eur", "/v1/intents", `{"category":"electronics","currency":"eur","text":"a laptop","max_price":"100"}`, 201, "", "", ""},
		{"currency XYZ", "/v1/intents", `{"category":"electronics","currency":"XYZ","text":"a laptop","max_price":"100"}`, 400, client.CodeBadCurrency, "currency", `"XYZ" is not a currency code`},
		{"region XX", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"100","region":"XX"}`, 400, client.CodeBadRegion, "region", `"XX" is not a country code`},
		{"price ceiling 0", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"0"}`, 400, client.CodeBadPrice, "max_price", "must be more than 0"},
		{"price ceiling 0 in minor units", "/v1/intents", `{` + base + `,"text":"a laptop","max_price_minor":0}`, 400, client.CodeBadPrice, "max_price", "must be more than 0"},
		{"no price ceiling", "/v1/intents", `{` + base + `,"text":"a laptop"}`, 400, client.CodeBadPrice, "max_price", "Give an amount"},
		{"empty text", "/v1/intents", `{` + base + `,"text":"","max_price":"100"}`, 400, client.CodeBadText, "text", "the description is empty"},
		{"text over 1024 bytes", "/v1/intents", `{` + base + `,"text":"` + strings.Repeat("x", 2000) + `","max_price":"100"}`, 400, client.CodeBadText, "text", "2000 bytes long; at most 1024 bytes fit"},
		{"100 KB text", "/v1/intents", `{` + base + `,"text":"` + strings.Repeat("x", 100<<10) + `","max_price":"100"}`, 413, client.CodeBodyTooLarge, "", "a text holds at most 1024 bytes"},
		{"negative price", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"-5"}`, 400, client.CodeBadPrice, "max_price", "cannot be negative"},
		{"negative price in minor units", "/v1/intents", `{` + base + `,"text":"a laptop","max_price_minor":-5}`, 400, client.CodeBadPrice, "max_price", "negative"},
		{"negative quantity", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"1","quantity":-2}`, 400, client.CodeBadQuantity, "quantity", "negative"},
		{"three decimals", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"10.999"}`, 400, client.CodeBadPrice, "max_price", "10.999 has 3 decimals; EUR has at most 2 decimals"},
		{"filter region XX", "/v1/vendor/filter", `{"regions":["XX"]}`, 400, client.CodeBadRegion, "region", `"XX" is not a country code`},
		{"filter min_price 10.999", "/v1/vendor/filter", `{"min_price":10.999}`, 400, client.CodeBadRequest, "min_price", "Give a whole number here; 10.999 is not one."},
		{"filter min_price -5", "/v1/vendor/filter", `{"min_price":-5}`, 400, client.CodeBadRequest, "min_price", "A negative number is not allowed here (-5)."},
		{"quantity 1.5", "/v1/intents", `{` + base + `,"text":"a laptop","max_price":"1","quantity":1.5}`, 400, client.CodeBadQuantity, "quantity", "Give a whole number here; 1.5 is not one."},
		{"filter currency XYZ", "/v1/vendor/filter", `{"currencies":["XYZ"]}`, 400, client.CodeBadCurrency, "currency", `"XYZ" is not a currency code`},
		// A minimum price is in one currency: amounts in several, or in
		// none named, cannot be compared with an intent's ceiling.
		{"filter min_price, no currency", "/v1/vendor/filter", `{"min_price":1000}`, 400, client.CodeBadRequest, "min_price", "A minimum price needs exactly one currency"},
		{"filter min_price, two currencies", "/v1/vendor/filter", `{"min_price":1000,"currencies":["EUR","JPY"]}`, 400, client.CodeBadRequest, "min_price", "amounts in different currencies cannot be compared"},
		{"filter min_price in eur", "/v1/vendor/filter", `{"min_price":1000,"currencies":["eur"]}`, 200, "", "", ""},
		{"filter min_price, one currency twice", "/v1/vendor/filter", `{"min_price":1000,"currencies":["EUR","eur"]}`, 200, "", "", ""},
		{"filter two currencies, no min_price", "/v1/vendor/filter", `{"currencies":["EUR","JPY"]}`, 200, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if strings.Contains(tt.path, "filter") {
				method = "PUT"
			}
			req, err := http.NewRequestWithContext(t.Context(), method, a.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if tt.code == "" {
				if resp.StatusCode != tt.status {
					t.Fatalf("%d %s; want %d", resp.StatusCode, body, tt.status)
				}
				return
			}
			e := decodeError(t, body)
			if resp.StatusCode != tt.status || e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Message, tt.says) {
				t.Errorf("%d %s field %q: %q; want %d %s field %q: ...%q...", resp.StatusCode, e.Code, e.Field, e.Message, tt.status, tt.code, tt.field, tt.says)
			}
			for _, jargon := range []string{"max_price", "minor units", "JSON"} {
				if strings.Contains(e.Message, jargon) {
					t.Errorf("message %q speaks the API's jargon (%q)", e.Message, jargon)
				}
			}
		})
	}
}
