package node

import (
	"context"
)

// service is a long-lived part of the node: Serve runs it until ctx ends
// and returns once everything it started has ended. New starts every
// service (Node.serve) and Close stops them all by cancelling the node's
// context and waiting; docs/ARCHITECTURE.md lists them.
type service interface {
	Serve(ctx context.Context) error
}

// serviceFunc makes a function a service.
type serviceFunc func(ctx context.Context) error

func (f serviceFunc) Serve(ctx context.Context) error { return f(ctx) }

// readier is a service that takes part of its work in Serve (stream
// handlers, event subscriptions) that New must see done before it returns:
// a peer that connects to a node New returned must find its protocols.
type readier interface {
	ready() <-chan struct{}
}

// serve runs s on a goroutine the node owns until the node closes; Close
// waits for it. It returns once s is ready, if s says when.
func (n *Node) serve(name string, s service) {
	done := make(chan struct{})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(done)
		if err := s.Serve(n.ctx); err != nil && n.ctx.Err() == nil {
			n.log.Error("service stopped", "service", name, "err", err)
		}
	}()
	if r, ok := s.(readier); ok {
		select {
		case <-r.ready():
		case <-done:
		}
	}
}
