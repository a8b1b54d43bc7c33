// Package api is the server of the daemon's local HTTP API. Its light
// side, the typed Go client the CLI is built on and the JSON shapes both
// speak, is package node/api/client, which this package imports for the
// wire types and which links no libp2p.
//
// The layering is daemon -> Server (HTTP handlers) -> client.Client: the daemon
// makes a node.Node and a Server for it and serves Server.Handler on a
// loopback listener; the CLI and the web page speak to it over HTTP. The
// API is JSON, with one server-sent-event stream (GET /v1/events) that
// replays the stored state, marks the end of the replay and goes live, and
// HMAC-signed webhooks for receivers that cannot hold a stream open.
//
// It is secure by default: every endpoint but GET /v1/health needs the
// bearer token (kept by the daemon in a 0600 file), requests from other
// web origins and foreign Host names are refused, bodies are limited to
// 64 KiB, and every error is JSON with a stable code:
//
//	{"error":{"code":"bad_price","message":"max_price: amount \"abc\" is not a number: ..."}}
//
// Each endpoint is an apiHandler that returns its error rather than
// writing it; Server.handle answers every error one way (errors.go maps
// the node's and the protocol's sentinel errors to a status and a code).
//
// docs/API.md documents every endpoint with an example.
package api
