package client

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadSSE(t *testing.T) {
	stream := "retry: 2000\n\n" +
		": ping\n\n" +
		"event: progress\ndata: {\"tries\":1}\n\n" +
		"data: line one\ndata: line two\n\n" +
		"event: intent\ndata:{\"id\":\"x\"}\n\n" +
		"event: unterminated\ndata: lost\n"
	type ev struct{ kind, data string }
	var got []ev
	err := readSSE(strings.NewReader(stream), func(kind string, data []byte) error {
		got = append(got, ev{kind, string(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ev{{"progress", `{"tries":1}`}, {"message", "line one\nline two"}, {"intent", `{"id":"x"}`}}
	if !slices.Equal(got, want) {
		t.Errorf("events %q; want %q", got, want)
	}

	// errStop ends the stream without an error; any other error is returned.
	n := 0
	if err := readSSE(strings.NewReader(stream), func(string, []byte) error { n++; return errStop }); err != nil || n != 1 {
		t.Errorf("errStop: %v after %d events", err, n)
	}
	boom := errors.New("boom")
	if err := readSSE(strings.NewReader(stream), func(string, []byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"kind":"accept"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := "1700000000"
	sig := "sha256=" + Sign("s3cret", ts, body)
	if err := VerifySignature("s3cret", ts, sig, body, 5*time.Minute, now); err != nil {
		t.Errorf("valid signature: %v", err)
	}
	for name, check := range map[string]func() error{
		"wrong secret": func() error { return VerifySignature("other", ts, sig, body, 0, now) },
		"changed body": func() error { return VerifySignature("s3cret", ts, sig, []byte(`{"kind":"offer"}`), 0, now) },
		"changed time": func() error { return VerifySignature("s3cret", "1700000001", sig, body, 0, now) },
		"no prefix": func() error {
			return VerifySignature("s3cret", ts, strings.TrimPrefix(sig, "sha256="), body, 0, now)
		},
		"stale":          func() error { return VerifySignature("s3cret", ts, sig, body, time.Minute, now.Add(time.Hour)) },
		"not hex at all": func() error { return VerifySignature("s3cret", ts, "sha256=zz", body, 0, now) },
	} {
		if check() == nil {
			t.Errorf("%s: verified", name)
		}
	}
}
