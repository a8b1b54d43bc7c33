package client

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// The client's side of server-sent events: GET /v1/events, and
// POST /v1/intents when it streams the minting's progress.

func isEventStream(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/event-stream"
}

// errStop ends readSSE without an error.
var errStop = errors.New("stop")

// maxEventSize bounds one event's data on the client side.
const maxEventSize = 1 << 20

// readSSE parses a server-sent event stream (the subset the API writes:
// event and data fields, comments, blank-line dispatch) and calls fn for
// each event. It returns nil at the end of the stream or when fn returns
// errStop, fn's error otherwise.
func readSSE(r io.Reader, fn func(kind string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventSize)
	kind := ""
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if data.Len() > 0 || kind != "" {
				err := fn(cmp.Or(kind, "message"), bytes.TrimSuffix(data.Bytes(), []byte("\n")))
				if errors.Is(err, errStop) {
					return nil
				}
				if err != nil {
					return err
				}
			}
			kind = ""
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue // comment: a heartbeat
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			kind = string(value)
		case "data":
			data.Write(value)
			data.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return nil
}
