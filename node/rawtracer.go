package node

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// noTrace is a pubsub.RawTracer that does nothing: a tracer embeds it and
// writes only the events it follows.
type noTrace struct{}

var _ pubsub.RawTracer = noTrace{}

func (noTrace) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (noTrace) OnClosedOutboundStream(peer.ID)                       {}
func (noTrace) Join(string)                                          {}
func (noTrace) Leave(string)                                         {}
func (noTrace) Graft(peer.ID, string)                                {}
func (noTrace) Prune(peer.ID, string)                                {}
func (noTrace) ValidateMessage(*pubsub.Message)                      {}
func (noTrace) DeliverMessage(*pubsub.Message)                       {}
func (noTrace) RejectMessage(*pubsub.Message, string)                {}
func (noTrace) DuplicateMessage(*pubsub.Message)                     {}
func (noTrace) ThrottlePeer(peer.ID)                                 {}
func (noTrace) RecvRPC(*pubsub.RPC)                                  {}
func (noTrace) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (noTrace) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (noTrace) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (noTrace) UndeliverableMessage(*pubsub.Message)                 {}
