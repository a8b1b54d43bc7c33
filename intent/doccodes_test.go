package intent_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/intent/internal/vectors"
)

// goErrors are the intent package's validation and opening errors by the
// Go names docs/PROTOCOL.md gives them.
var goErrors = map[string]error{
	"ErrTooLarge": intent.ErrTooLarge, "ErrMalformed": intent.ErrMalformed, "ErrNonCanonical": intent.ErrNonCanonical,
	"ErrSchema": intent.ErrSchema, "ErrBadKey": intent.ErrBadKey, "ErrWrongTopic": intent.ErrWrongTopic,
	"ErrLifetime": intent.ErrLifetime, "ErrInsufficientWork": intent.ErrInsufficientWork,
	"ErrBadSignature": intent.ErrBadSignature, "ErrVersion": intent.ErrVersion, "ErrBelowLocal": intent.ErrBelowLocal,
	"ErrFromFuture": intent.ErrFromFuture, "ErrExpired": intent.ErrExpired,
	"ErrWrongIntent": intent.ErrWrongIntent, "ErrSealed": intent.ErrSealed, "ErrOfferMalformed": intent.ErrOfferMalformed,
	"ErrTermsMismatch": intent.ErrTermsMismatch, "ErrCurrency": intent.ErrCurrency, "ErrOverCeiling": intent.ErrOverCeiling,
	"ErrOfferExpired": intent.ErrOfferExpired, "ErrNotBound": intent.ErrNotBound,
	"ErrNoDeal": intent.ErrNoDeal, "ErrWrongVendor": intent.ErrWrongVendor,
	"ErrThreadMalformed": intent.ErrThreadMalformed, "ErrWrongThread": intent.ErrWrongThread, "ErrNotChained": intent.ErrNotChained,
	"ErrThreadReplay": intent.ErrThreadReplay, "ErrThreadClosed": intent.ErrThreadClosed,
}

// docSection returns the text of docs/PROTOCOL.md under the heading title,
// up to the next heading of the same or a higher level.
func docSection(t *testing.T, doc, title string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+title+"\n")
	if i < 0 {
		t.Fatalf("docs/PROTOCOL.md has no heading %q", title)
	}
	level := strings.Index(title, " ")
	var b strings.Builder
	for _, line := range strings.Split(doc[i+len(title)+2:], "\n") {
		if n := len(line) - len(strings.TrimLeft(line, "#")); n > 0 && n <= level && strings.HasPrefix(line[n:], " ") {
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// TestProtocolErrorCodes keeps docs/PROTOCOL.md's error codes equal to the
// code's: the codes table names each code's Go error and class as they are,
// every code the vectors use is in it, and every failure of the order of
// checks and every Go error the text names exists.
func TestProtocolErrorCodes(t *testing.T) {
	raw, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)

	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `(Err[A-Za-z]+)` \\| (Reject|Ignore) \\|")
	rows := row.FindAllStringSubmatch(docSection(t, doc, "## Validation"), -1)
	documented := map[string]bool{}
	for _, r := range rows {
		code, name, class := r[1], r[2], r[3]
		documented[code] = true
		want, ok := goErrors[name]
		if !ok {
			t.Errorf("code %s: the text names %s, which is not an intent error", code, name)
			continue
		}
		if got := vectors.Codes[code]; got != want {
			t.Errorf("code %s: the text says %s, the vectors map it to %v", code, name, got)
		}
		if intent.Ignorable(want) != (class == "Ignore") {
			t.Errorf("code %s: the text classes %s as %s, the code says Ignorable=%v", code, name, class, intent.Ignorable(want))
		}
	}
	for code := range vectors.Codes {
		if !documented[code] {
			t.Errorf("code %s is used by the vectors but not in PROTOCOL.md's codes table", code)
		}
	}

	// The failure column of the order of checks names only documented codes.
	for _, line := range strings.Split(docSection(t, doc, "### The order of checks"), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || strings.TrimSpace(cells[1]) == "step" {
			continue
		}
		for _, m := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(cells[len(cells)-2], -1) {
			if !documented[m[1]] {
				t.Errorf("step %s fails with %q, which is not in the codes table", strings.TrimSpace(cells[1]), m[1])
			}
		}
	}

	// Every Go error the text names is one of the package's.
	for _, m := range regexp.MustCompile("`(Err[A-Za-z]+)`").FindAllStringSubmatch(doc, -1) {
		if _, ok := goErrors[m[1]]; !ok {
			t.Errorf("PROTOCOL.md names %s, which the intent package does not have", m[1])
		}
	}

	// The opening checks name distinct errors, in the order OpenOffer runs them.
	var opening []string
	for _, m := range regexp.MustCompile("(?m)^\\| [^|]+ \\| (`Err[^|]+)\\|").FindAllStringSubmatch(docSection(t, doc, "### Opening an offer (the customer's node)"), -1) {
		opening = append(opening, strings.TrimSpace(m[1]))
	}
	if len(opening) < 10 || !slices.Contains(opening, "`ErrBadSignature`") {
		t.Errorf("the opening table has %d rows: %q", len(opening), opening)
	}
}
