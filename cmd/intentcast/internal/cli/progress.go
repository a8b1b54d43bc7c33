package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// mintProgress shows the proof-of-work search on w: one line rewritten in
// place on a terminal, otherwise a line every few seconds.
type mintProgress struct {
	w        io.Writer
	tty      bool
	every    time.Duration
	start    time.Time
	mu       sync.Mutex
	last     time.Time
	lastLen  int
	reported bool
}

func newMintProgress(w io.Writer) *mintProgress {
	p := &mintProgress{w: w, tty: isTerminal(w), start: time.Now(), every: 2 * time.Second}
	if p.tty {
		p.every = 100 * time.Millisecond
	}
	return p
}

// update is the progress callback of client.Client.PublishIntent.
func (p *mintProgress) update(m client.MintProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < p.every || !p.tty && now.Sub(p.start) < time.Second {
		return // a quick mint needs no progress lines in a log
	}
	p.last = now
	line := fmt.Sprintf("minting proof of work: %s", describeMint(m))
	if p.tty {
		pad := max(0, p.lastLen-len(line))
		fmt.Fprintf(p.w, "\r%s%*s", line, pad, "")
		p.lastLen = len(line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.reported = true
}

// done ends the progress display.
func (p *mintProgress) done(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	took := fmtDuration(time.Since(p.start))
	if p.tty && p.reported {
		fmt.Fprint(p.w, "\r")
	}
	msg := "minted and published in " + took
	if err != nil {
		msg = "publishing failed after " + took
	}
	if p.tty {
		fmt.Fprintf(p.w, "%s%*s\n", msg, max(0, p.lastLen-len(msg)), "")
	} else {
		fmt.Fprintln(p.w, msg)
	}
}

// clear ends the progress display without a closing line, for a caller
// that writes its own: one line per publish.
func (p *mintProgress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.reported {
		fmt.Fprintf(p.w, "\r%*s\r", p.lastLen, "")
	}
}

// describeMint renders progress as a percentage of the expected tries. The
// search is random: it can need more than expected, so past 100% the
// percentage keeps counting.
func describeMint(m client.MintProgress) string {
	if m.Expected == 0 {
		return fmt.Sprintf("%s tries", humanCount(m.Tries))
	}
	pct := float64(m.Tries) * 100 / float64(m.Expected)
	return fmt.Sprintf("%3.0f%% of the expected work (%s of ~%s tries)", pct, humanCount(m.Tries), humanCount(m.Expected))
}

func humanCount(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
