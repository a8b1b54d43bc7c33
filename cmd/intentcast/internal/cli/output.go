package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/intentcast/intentcast/node/api/client"
)

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table is an aligned, tab-separated table.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		// Tabs and newlines in user text would break the alignment.
		cols[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// short returns the first 12 characters of an ID, enough to name it (the
// commands accept unique prefixes).
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// truncate cuts s to n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// price formats an amount with its currency.
func price(amount, currency string) string {
	if amount == "" {
		return "-"
	}
	return strings.TrimSpace(amount + " " + currency)
}

// when formats a time for tables: local time, to the minute, with how far
// it is from now.
func when(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	rel := ""
	switch {
	case d > time.Minute:
		rel = "in " + roundDuration(d)
	case d < -time.Minute:
		rel = roundDuration(-d) + " ago"
	default:
		rel = "now"
	}
	return t.Local().Format("2006-01-02 15:04") + " (" + rel + ")"
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
}

// yesNo renders a boolean for tables.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// orDash renders an empty string as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtDuration renders a measured duration for people.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// sendStatus says in words how far an own message got (client.SendView);
// "" if the node did not say.
func sendStatus(s *client.SendView) string {
	if s == nil {
		return ""
	}
	switch s.Status {
	case client.SendQueued:
		return "queued: no peers — will send when a peer connects"
	case client.SendSent:
		if s.Peers == 1 {
			return "sent to 1 peer"
		}
		return fmt.Sprintf("sent to %d peers", s.Peers)
	case client.SendSeen:
		return "seen by the network"
	case client.SendRefused:
		return "refused by this node, never sent: " + s.Reason
	}
	return s.Status
}

// warnQueued tells the user on stderr that a message is queued for want
// of peers; the command still succeeds (the node sends it later).
func warnQueued(w io.Writer, what string, s *client.SendView) {
	if s != nil && s.Status == client.SendQueued {
		fmt.Fprintf(w, "warning: this node has no peers: the %s is queued and will be sent when a peer connects (intentcast peers connect ADDR, or check bootstrap in config.toml)\n", what)
	}
}
