package api

import (
	"net/http"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// Negotiation threads: the customer counters an offer, the vendor replies
// (docs/API.md, "Threads"). A thread is named by its offer's ID; any
// revised offer of it names it too.

// getThread serves GET /v1/offers/{id}/thread.
func (s *Server) getThread(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "offer id")
	if err != nil {
		return err
	}
	tr, err := s.n.Thread(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, threadView(tr))
	return nil
}

// listThreads serves GET /v1/intents/{id}/threads.
func (s *Server) listThreads(w http.ResponseWriter, r *http.Request) error {
	id, err := parseID(r.PathValue("id"), "intent id")
	if err != nil {
		return err
	}
	trs, err := s.n.Threads(r.Context(), id)
	if isNotFound(err) {
		err = errf(http.StatusNotFound, client.CodeUnknownIntent, "intent %s is unknown to this node", id)
	}
	if err != nil {
		return err
	}
	out := make([]client.ThreadView, 0, len(trs))
	for _, tr := range trs {
		out = append(out, threadView(tr))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// counter serves POST /v1/offers/{id}/thread/counter.
func (s *Server) counter(w http.ResponseWriter, r *http.Request) error {
	var req client.CounterRequest
	return s.answer(w, r, &req, node.RoleCustomer, "was sent by this node: answer the customer's counter with a reply instead",
		func(id intent.ID, tr node.ThreadRecord) (node.ThreadRecord, error) {
			if tr.Offer.Offer == nil {
				return tr, errf(http.StatusNotFound, client.CodeUnknownOffer, "offer %s did not open: there is nothing to counter", id)
			}
			d, err := req.Draft(tr.Offer.Offer.Body.Currency)
			if err != nil {
				return tr, err
			}
			return s.n.Counter(r.Context(), id, d)
		})
}

// reply serves POST /v1/offers/{id}/thread/reply.
func (s *Server) reply(w http.ResponseWriter, r *http.Request) error {
	var req client.ThreadReplyRequest
	return s.answer(w, r, &req, node.RoleVendor, "was made to this node's intent: answer it with a counter instead",
		func(_ intent.ID, tr node.ThreadRecord) (node.ThreadRecord, error) {
			in, err := s.n.LiveIntent(tr.IntentID)
			if err != nil {
				return tr, errf(http.StatusConflict, client.CodeThreadClosed, "intent %s is no longer live here (closed or expired): its threads take no more messages", tr.IntentID)
			}
			d, err := req.Draft(in, time.Now())
			if err != nil {
				return tr, err
			}
			return s.n.ReplyThread(r.Context(), tr.Root, d)
		})
}

// answer is what counter and reply share: it reads the offer ID and the
// request into req, loads the thread, refuses it unless this node plays
// role in it (notYours says why, after "offer ID"), and writes the thread
// that send returns. send gets the offer ID as the request named it.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req any, role node.Role, notYours string, send func(id intent.ID, tr node.ThreadRecord) (node.ThreadRecord, error)) error {
	id, err := parseID(r.PathValue("id"), "offer id")
	if err != nil {
		return err
	}
	if err := decode(r, req, false); err != nil {
		return err
	}
	tr, err := s.n.Thread(r.Context(), id)
	if err != nil {
		return err
	}
	if tr.Role != role {
		return errf(http.StatusConflict, client.CodeNotYourTurn, "offer %s %s", id, notYours)
	}
	if tr, err = send(id, tr); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, threadView(tr))
	return nil
}

// threadEvent is a thread event of the replay, with the time it happened.
type threadEvent struct {
	at time.Time
	ev client.EventView
}

// threadEvents replays a thread as the events that made it: one per
// message, each carrying the thread as it stood after that message and
// named by it, as the live event was (eventView).
func threadEvents(tr node.ThreadRecord) []threadEvent {
	full := threadView(tr)
	out := make([]threadEvent, 0, len(tr.Messages))
	for i, m := range tr.Messages {
		v := full
		v.Messages = full.Messages[: i+1 : i+1]
		if i < len(tr.Messages)-1 {
			// It took another message, so it was open, and the turn was
			// that message's sender's.
			v.Open, v.Turn = true, string(tr.Messages[i+1].From)
		}
		out = append(out, threadEvent{m.Received, client.EventView{Kind: client.KindThread, IntentID: v.IntentID,
			OfferID: m.ID.String(), Thread: &v}})
	}
	return out
}

// threadView renders a thread.
func threadView(tr node.ThreadRecord) client.ThreadView {
	v := client.ThreadView{IntentID: tr.IntentID.String(), Root: tr.Root.String(), Role: string(tr.Role), Open: tr.Open,
		Turn: string(tr.Turn), Offer: offerView(tr.Offer), Messages: make([]client.ThreadMessageView, 0, len(tr.Messages))}
	cur := v.Offer.Currency
	for _, m := range tr.Messages {
		mv := client.ThreadMessageView{ID: m.ID.String(), Seq: m.Seq, From: string(m.From), Direction: string(m.Direction),
			Created: m.Created.UTC(), Received: m.Received.UTC(), Text: m.Text}
		if m.Price != 0 {
			mv.Price, mv.PriceMinor = intent.FormatAmount(m.Price, cur), m.Price
		}
		if m.Terms != nil {
			mv.Terms, mv.CustomTerms = termNames(*m.Terms), m.Terms.Custom
		}
		if m.Offer != nil {
			ov := offerView(*m.Offer)
			mv.Offer = &ov
		}
		v.Messages = append(v.Messages, mv)
	}
	return v
}
