// Package daemon assembles and runs an intentcast node from a data
// directory: the directory's files (Init: node.key, vendor.key, api.token,
// a commented config.toml), its configuration (Config, LoadConfig,
// profiles), and the node with its local HTTP API and web page (Open,
// Daemon.Run), which writes api.addr for clients to find, stops cleanly
// when its context ends and reloads the log level on SIGHUP.
//
// The CLI's `init` and `daemon` commands are flags around it, and the
// `swarm` demo serves each of its nodes' APIs with ServeAPI. Whatever only
// talks to a running daemon needs none of this: see node/api/client.
package daemon
