package intent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readSeeds decodes a fuzz target's committed seed corpus (each file is
// "go test fuzz v1" and one []byte(...) line), by file name.
func readSeeds(t *testing.T, target string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus for %s (%v)", target, err)
	}
	seeds := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		header, line, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		quoted, ok := strings.CutPrefix(line, "[]byte(")
		quoted, ok2 := strings.CutSuffix(quoted, ")")
		s, err := strconv.Unquote(quoted)
		if header != "go test fuzz v1" || !ok || !ok2 || err != nil {
			t.Fatalf("%s is not a []byte seed: %v", f, err)
		}
		seeds[filepath.Base(f)] = []byte(s)
	}
	return seeds
}

// TestFuzzSeedsReachTheChecks: every decoder's seed corpus holds messages
// its parser accepts as they are today, so the fuzzer starts from inputs
// that reach the re-encoding checks, not only from ones refused at once.
func TestFuzzSeedsReachTheChecks(t *testing.T) {
	accepts := map[string]func([]byte) bool{
		"FuzzParse":            func(b []byte) bool { _, err := Parse(b); return err == nil },
		"FuzzParseIntent":      func(b []byte) bool { _, err := ParseIntent(b); return err == nil },
		"FuzzParseSealedOffer": func(b []byte) bool { _, err := ParseSealedOffer(b); return err == nil },
		"FuzzParseAccept":      func(b []byte) bool { _, err := ParseAccept(b); return err == nil },
		"FuzzParseCancel":      func(b []byte) bool { _, err := ParseCancel(b); return err == nil },
		"FuzzParseOffer":       func(b []byte) bool { _, err := ParseOffer(b); return err == nil },
	}
	for target, ok := range accepts {
		var valid []string
		for name, b := range readSeeds(t, target) {
			if ok(b) {
				valid = append(valid, name)
			}
		}
		if len(valid) == 0 {
			t.Errorf("%s: no seed parses today", target)
		}
		t.Logf("%s: %d seeds parse: %v", target, len(valid), valid)
	}
}
