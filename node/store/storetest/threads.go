package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

func threadMessage(name, intentName, rootName string, seq uint16, d store.Direction) store.ThreadMessage {
	return store.ThreadMessage{
		ID: idOf(name), IntentID: idOf(intentName), Root: idOf(rootName), Seq: seq, Direction: d,
		Raw: []byte("signed " + name), Sealed: []byte("sealed " + name), Received: t0.Add(time.Duration(seq) * time.Minute),
	}
}

func threadMessageID(m store.ThreadMessage) store.ID { return m.ID }

// testThreadMessages checks that Apply keeps thread messages, that
// ThreadMessages lists one intent's by thread and place whatever order they
// were written in, and that ThreadMessage finds one by its ID.
func testThreadMessages(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.Apply(ctx, store.Batch{Threads: []store.ThreadMessage{
		threadMessage("a-x-2", "intent-a", "root-x", 2, store.Received),
		threadMessage("b-y-1", "intent-b", "root-y", 1, store.Sent),
		threadMessage("a-x-1", "intent-a", "root-x", 1, store.Sent),
	}}))
	must(t, s.Apply(ctx, store.Batch{Threads: []store.ThreadMessage{
		threadMessage("a-x-3", "intent-a", "root-x", 3, store.Sent),
	}}))
	list, err := s.ThreadMessages(ctx, idOf("intent-a"))
	must(t, err)
	checkOrder(t, "ThreadMessages(intent-a)", list, threadMessageID, idOf("a-x-1"), idOf("a-x-2"), idOf("a-x-3"))
	same(t, "ThreadMessages(intent-a)[1]", list[1], threadMessage("a-x-2", "intent-a", "root-x", 2, store.Received))
	empty, err := s.ThreadMessages(ctx, idOf("intent-c"))
	must(t, err)
	checkOrder(t, "ThreadMessages(intent-c)", empty, threadMessageID)
	m, err := s.ThreadMessage(ctx, idOf("b-y-1"))
	must(t, err)
	same(t, "ThreadMessage(b-y-1)", m, threadMessage("b-y-1", "intent-b", "root-y", 1, store.Sent))
	if _, err := s.ThreadMessage(ctx, idOf("none")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ThreadMessage of a missing ID: %v, want ErrNotFound", err)
	}
	bad := threadMessage("bad", "intent-a", "root-x", 4, "sideways")
	if err := s.Apply(ctx, store.Batch{Threads: []store.ThreadMessage{bad}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Apply of a thread message with direction %q: %v, want ErrInvalid", bad.Direction, err)
	}
}
