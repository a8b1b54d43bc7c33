// Package bench measures intentcast beside raw go-libp2p-pubsub gossipsub on
// the same machine, topology and traffic, in the same run.
//
// A Swarm is N peers in this process on loopback TCP (Noise, Yamux), built
// the same way for both systems: each peer dials 3 random earlier peers,
// mDNS is off, and a run starts only once every gossipsub mesh has settled.
// The raw swarm is plain gossipsub with its default settings on one topic,
// publishing payloads as large as a signed intent; the intentcast swarm runs
// real node.Node instances (on hosts built here, see node.Config.Host)
// publishing real, pre-minted intents through the node's own publish path.
//
// A ProcSwarm is the same peers, each a process of its own (ChildMain):
// one Go runtime, heap and collector per peer, as deployed nodes run, where
// an in-process swarm's peers share one collector whose marks stall them
// all at once. The harness (topology, publish schedule, recorder) stays in
// the parent; the peers report each delivery with its time.
//
// RunLoad publishes a fixed number of messages from random peers at a fixed
// rate and reports delivery, publish-to-deliver latency, CPU, memory and
// bytes per delivered message (and, given a HopLog, where each hop's time
// went: the sender's write, the wire, the receiver's validation); MaxRate
// steps the rate up to find the highest one a system sustains; RoundTrip
// measures intent -> first offer -> accept with auto-offering vendors;
// MeasureValidation compares a node's validation rate with the raw Ed25519
// verification rate. Suite runs them all and renders the tables and the plot
// of docs/BENCHMARKS.md (bench/cmd/icbench).
package bench
