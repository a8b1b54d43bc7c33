// Package client is the light side of the daemon's local HTTP API: the
// typed Go client, the JSON shapes the API speaks, its error codes and
// event kinds, webhook signatures, and how to find a daemon running on
// this machine (its data directory, api.addr and api.token).
//
// It imports no libp2p and nothing of the node, so that programs that only
// talk to a daemon (the examples, a shop's integration, the CLI's client
// commands) stay small; a test keeps it that way. The server, package
// node/api, imports this package for the wire types, never the reverse.
//
//	d, err := client.Locate("", "", "") // --api, --token, --data-dir
//	if err != nil { ... }
//	c := client.New(d.URL, d.Token)
//	in, err := c.PublishIntent(ctx, client.PublishRequest{Category: "electronics", MaxPrice: "250", Currency: "EUR"}, nil)
//
// Every method returns *Error for an answer that is not 2xx; its Code is
// one of the stable codes in codes.go. docs/API.md documents every
// endpoint.
package client
