package node

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/intentcast/intentcast/intent"
)

// TestRejectReasonsMatchProtocol checks that logs and metrics name every
// validation error with the code docs/PROTOCOL.md's codes table gives it.
func TestRejectReasonsMatchProtocol(t *testing.T) {
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]error{
		"ErrTooLarge": intent.ErrTooLarge, "ErrMalformed": intent.ErrMalformed, "ErrNonCanonical": intent.ErrNonCanonical,
		"ErrSchema": intent.ErrSchema, "ErrBadKey": intent.ErrBadKey, "ErrWrongTopic": intent.ErrWrongTopic,
		"ErrLifetime": intent.ErrLifetime, "ErrInsufficientWork": intent.ErrInsufficientWork,
		"ErrBadSignature": intent.ErrBadSignature, "ErrVersion": intent.ErrVersion, "ErrBelowLocal": intent.ErrBelowLocal,
		"ErrFromFuture": intent.ErrFromFuture, "ErrExpired": intent.ErrExpired,
		"ErrNoDeal": intent.ErrNoDeal, "ErrWrongVendor": intent.ErrWrongVendor, "ErrNotBound": intent.ErrNotBound,
	}
	rows := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| `(Err[A-Za-z]+)` \\| (?:Reject|Ignore) \\|").FindAllSubmatch(doc, -1)
	if len(rows) < len(byName) {
		t.Fatalf("the codes table has %d rows, fewer than the %d errors this test knows", len(rows), len(byName))
	}
	for _, r := range rows {
		code, name := string(r[1]), string(r[2])
		e, ok := byName[name]
		if !ok {
			t.Errorf("PROTOCOL.md's codes table has %s (%s): add it to byName here, and to rejectReasons (node/reject.go) so that logs and metrics name it %q", name, code, code)
			continue
		}
		if got := reasonName(fmt.Errorf("validate: %w", e)); got != code {
			t.Errorf("%s is logged as %q, PROTOCOL.md's code is %q", name, got, code)
		}
	}
}
