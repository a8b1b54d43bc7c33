package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// The event stream (GET /v1/events) is push, not polling (nwaku#938): it
// first replays what the node has stored, as the events that made it,
// marks the end of the replay with a replay-end event, then goes live. A
// client that loses the stream reconnects and is whole again after the
// replay, so nothing needs a resume token. Each event is
//
//	event: <kind>
//	data: <EventView as one line of JSON>
//
// followed by a blank line; a comment line (": ping") every 15 s keeps
// proxies and idle timeouts from closing a quiet stream.

// heartbeatInterval spaces the keep-alive comments.
const heartbeatInterval = 15 * time.Second

// sseWriter writes server-sent events and flushes each one.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startSSE sends the headers of an event stream.
func startSSE(w http.ResponseWriter, r *http.Request) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell a reverse proxy not to buffer
	h.Set("X-Content-Type-Options", "nosniff")
	rc := http.NewResponseController(w)
	// A stream outlives any WriteTimeout the daemon's http.Server sets.
	_ = rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	return &sseWriter{w: w, rc: rc}
}

// event writes one event. JSON has no raw newlines, so data is one line.
func (s *sseWriter) event(kind string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("event %s: %w", kind, err)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", kind, b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// comment writes a comment line, which clients ignore.
func (s *sseWriter) comment(text string) error {
	if _, err := fmt.Fprintf(s.w, ": %s\n\n", text); err != nil {
		return err
	}
	return s.rc.Flush()
}

// eventKey identifies an event for de-duplication between the replay and
// the live events that happened while it was read.
type eventKey struct {
	kind            string
	intentID, offer string
}

func keyOf(e client.EventView) eventKey { return eventKey{e.Kind, e.IntentID, e.OfferID} }

// events serves GET /v1/events.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// Subscribe before reading the store: an event that happens while the
	// replay is read is then either in the replay, or queued in the
	// subscription, or both (and de-duplicated), never lost.
	sub := s.n.Subscribe()
	defer sub.Close()
	replay, err := s.replay(ctx)
	if err != nil {
		return err
	}
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	sse := startSSE(w, r)
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	seen := make(map[eventKey]bool, len(replay))
	for _, e := range replay {
		seen[keyOf(e)] = true
		if sse.event(e.Kind, e) != nil {
			return nil
		}
	}
	if sse.event(client.KindReplayEnd, client.EventView{Kind: client.KindReplayEnd}) != nil {
		return nil
	}
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case ev, ok := <-sub.C:
			if !ok {
				// The node closed, or this stream fell too far behind: the
				// client reconnects and replays.
				return nil
			}
			v := eventView(ev)
			if k := keyOf(v); seen[k] {
				delete(seen, k) // each event happens once
				continue
			}
			if sse.event(v.Kind, v) != nil {
				return nil
			}
		case <-heartbeat.C:
			if sse.comment("ping") != nil {
				return nil
			}
		}
	}
}

// replay lists the stored state as events, oldest first: own intents
// (intent-posted), offers received (offer) and sent (offer-sent), deals
// (accepted on the customer's side, accept on the vendor's), the messages
// of this node's threads (thread) and the live intents that pass the
// vendor filter (intent).
func (s *Server) replay(ctx context.Context) ([]client.EventView, error) {
	type timed struct {
		at time.Time
		ev client.EventView
	}
	var out []timed
	now := time.Now()

	owns, err := s.n.OwnIntents(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay own intents: %w", err)
	}
	ownIDs := make(map[intent.ID]bool, len(owns))
	threaded := make(map[intent.ID]bool) // intents whose threads this node may hold
	for _, own := range owns {
		v := recordView(own, now)
		ownIDs[own.Intent.ID] = true
		out = append(out, timed{own.Intent.Body.CreatedAt(), client.EventView{Kind: string(node.EventIntentPosted), IntentID: v.ID, Intent: &v}})
	}

	for _, dir := range []node.Direction{node.Received, node.Sent} {
		offers, err := s.n.OffersByDirection(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("replay %s offers: %w", dir, err)
		}
		kind := node.EventOffer
		if dir == node.Sent {
			kind = node.EventOfferSent
		}
		for _, o := range offers {
			threaded[o.IntentID] = true
			v := offerView(o)
			ev := client.EventView{Kind: string(kind), IntentID: v.IntentID, OfferID: v.ID, Status: string(o.Status), Reason: o.Reason, Offer: &v}
			out = append(out, timed{o.Received, ev})
		}
	}

	deals, err := s.n.Deals(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay deals: %w", err)
	}
	for _, d := range deals {
		v := dealView(d, now)
		kind := node.EventAccepted
		if d.Role == node.RoleVendor {
			kind = node.EventAccept
		}
		out = append(out, timed{d.Closed, client.EventView{Kind: string(kind), IntentID: v.IntentID, OfferID: v.OfferID, Intent: &v.Intent, Offer: &v.Offer}})
	}

	for id := range threaded {
		trs, err := s.n.Threads(ctx, id)
		if isNotFound(err) {
			continue // its intent is gone from this node, and its threads with it
		}
		if err != nil {
			return nil, fmt.Errorf("replay threads: %w", err)
		}
		for _, tr := range trs {
			for _, ev := range threadEvents(tr) {
				out = append(out, timed{ev.at, ev.ev})
			}
		}
	}

	feed, err := s.n.Feed(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay feed: %w", err)
	}
	for _, in := range feed {
		if ownIDs[in.Intent.ID] {
			continue // replayed as intent-posted
		}
		v := recordView(in, now)
		out = append(out, timed{in.Intent.Body.CreatedAt(), client.EventView{Kind: string(node.EventIntent), IntentID: v.ID, Intent: &v}})
	}

	slices.SortStableFunc(out, func(a, b timed) int { return a.at.Compare(b.at) })
	evs := make([]client.EventView, len(out))
	for i, t := range out {
		evs[i] = t.ev
	}
	return evs, nil
}

// eventView renders a node event with the intent and offer it carries.
func eventView(e node.Event) client.EventView {
	v := client.EventView{Kind: string(e.Kind), IntentID: e.IntentID.String(), Status: e.Status, Reason: e.Reason}
	if !e.OfferID.IsZero() {
		v.OfferID = e.OfferID.String()
	}
	if e.Intent != nil {
		iv := recordView(*e.Intent, time.Now())
		v.Intent = &iv
	}
	if e.Offer != nil {
		ov := offerView(*e.Offer)
		v.Offer = &ov
		v.Status = cmp.Or(v.Status, ov.Status)
	}
	if e.Rating != nil {
		rv := ratingView(*e.Rating)
		v.Rating = &rv
	}
	if e.Profile != nil {
		pv := profileView(e.Profile)
		v.Profile = &pv
	}
	if e.Thread != nil {
		tv := threadView(*e.Thread)
		v.Thread = &tv
		if n := len(tv.Messages); n > 0 {
			// The new message names the event: a thread has one event per
			// message, and the stream de-duplicates by (kind, intent, offer).
			v.OfferID = tv.Messages[n-1].ID
		}
	}
	if e.Send != nil {
		sv := sendView(*e.Send)
		v.Send, v.Message = &sv, string(e.Send.Kind)
	}
	return v
}
