// Package node is a running intentcast peer: a libp2p host, gossipsub under
// the protocol's validators, the node's store, and the customer and vendor
// roles on top. Every node relays; which roles it plays is up to its user.
//
// A Node is made by New and stopped by Close. New opens the store, loads
// the in-memory state the validators read (live set, tombstones, replay
// index, own intents), starts the network, joins both topics of every
// configured category and starts the node's services; Close stops them
// all, then the network and the store, and is idempotent.
//
// The customer role is Publish, Cancel and Accept (customer.go); the vendor
// role is SetFilter, Feed and SendOffer (vendor.go). The node is the only
// door to its state: the queries (OwnIntents, Offers, Deals, ...; query.go)
// return parsed records, and every Event carries the records it is about.
//
// Every message, whichever way it comes (gossip, late-joiner sync, a stem
// hand-over), is checked by one function (Node.checkWith, validate.go) with
// go-libp2p-pubsub's three verdicts: Accept, Reject (the sender broke the
// protocol and is penalised or dropped) and Ignore (not for us now, no
// blame). Gossip and sync hand what they accept to one delivery
// (deliver.go); the stem never delivers, it passes a message on or
// publishes it into gossip, whose validator then checks it again.
//
// Long-lived work runs as services with one lifecycle, Serve(ctx) error,
// started by New and stopped by Close (service.go): the network's own pieces
// (network.go: discovery with its address book and mDNS dialers, the
// reachability tracker, DHT advertising), the replay flusher (replay.go),
// the prune loop, one delivery loop per topic, the outbox (outbox.go: own
// messages queued until a peer takes them, and their send status),
// late-joiner sync (sync*.go: /intentcast/sync/1, /2 and /3) and the stem relay
// (stem*.go: /intentcast/stem/1, origin privacy). Sync and the stem share
// one stream-service skeleton (streamservice.go: bans, stream slots bounded
// per peer and in all, a newer stream replacing a peer's older and idle ones
// preempted where the service asks for it, rates, drain on close) and one
// timer queue (timers.go), and see the node through narrow interfaces
// (syncNode, stemNode), not the Node itself. What runs goroutines outside
// that lifecycle is go-libp2p's (host, gossipsub router, DHT, relay,
// AutoNAT, hole punching, mDNS), and Close closes it after the services have
// ended.
//
// docs/ARCHITECTURE.md has the goroutines, the flow from publish to accept
// and the store schema; docs/PROTOCOL.md the wire rules.
package node
