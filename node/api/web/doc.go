// Package web is the daemon's web page: one HTML page with a customer view
// (compose an intent, watch offers arrive, compare and accept them) and a
// vendor view (the live feed of intents, filters, offers and deals).
//
// The page is plain HTML, CSS and JavaScript modules embedded in the
// binary: no build step, nothing fetched from the internet. It talks to
// the daemon's API on the same origin with the bearer token its user pastes
// once (kept in the tab's sessionStorage, sent as an Authorization header,
// never put in a URL), and reads the event stream with fetch, because
// EventSource cannot send that header. Everything that comes from the
// network is put on the page as text (textContent), never as HTML: intents
// are written by strangers.
//
// The API server serves Handler at GET / and GET /static/... (see
// api.ServerConfig.Web).
package web
