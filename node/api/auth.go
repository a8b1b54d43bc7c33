package api

import (
	"github.com/intentcast/intentcast/node/api/client"

	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"slices"
	"strings"
)

// The API is secure by default (kubo#10187): it listens on loopback, and
// every request passes three checks before a handler sees it.
//
//  1. Host: the Host header must be an IP literal, "localhost" or a name in
//     ServerConfig.AllowedHosts. A web page that rebinds its own DNS name
//     to 127.0.0.1 (DNS rebinding) arrives with its own name and stops here.
//  2. Origin: a request from a browser page of another origin (Origin
//     header, or Sec-Fetch-Site other than same-origin/none) is refused.
//     The API sends no CORS headers, so no other origin can read it
//     either. The daemon's own web page is same-origin.
//  3. Token: every endpoint but GET /v1/health needs
//     "Authorization: Bearer <token>", compared in constant time.

// hostAllowed reports whether the request's Host header names this server.
func (s *Server) hostAllowed(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || net.ParseIP(host) != nil || strings.EqualFold(host, "localhost") {
		return true
	}
	return slices.ContainsFunc(s.cfg.AllowedHosts, func(a string) bool { return strings.EqualFold(a, host) })
}

// originAllowed reports whether a browser sent the request from this
// server's own origin (or no browser is involved: no Origin header). The
// one cross-site request let through is a top-level navigation to the web
// page (a link to it): the page is public, and it cannot be framed.
func originAllowed(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		navigation := r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document"
		if !navigation || r.Method != http.MethodGet || !isWebPath(r.URL.Path) {
			return false
		}
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+r.Host)
}

// tokenMatches compares the request's bearer token with want in constant
// time (over digests, so not even the length leaks).
func tokenMatches(r *http.Request, want [sha256.Size]byte) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// guard runs the three checks and limits the body, then calls next.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !s.hostAllowed(r):
			writeError(w, errf(http.StatusForbidden, client.CodeForbiddenHost,
				"host %q is not this API's: use http://127.0.0.1:<port> or http://localhost:<port>, or add the name to the daemon's allowed hosts", r.Host))
			return
		case !originAllowed(r):
			writeError(w, errf(http.StatusForbidden, client.CodeForbiddenOrigin,
				"requests from the web origin %q are refused: the API answers only its own page and non-browser clients", r.Header.Get("Origin")))
			return
		case r.Method == http.MethodGet && r.URL.Path == "/v1/health":
		case s.cfg.Web != nil && r.Method == http.MethodGet && isWebPath(r.URL.Path):
			// The page itself is public; it asks its user for the token
			// (the daemon prints where the file is) and sends it with every
			// API call.
		case r.Header.Get("Authorization") == "":
			writeError(w, errf(http.StatusUnauthorized, client.CodeUnauthorized,
				"no bearer token: send \"Authorization: Bearer <token>\" with the token from the api.token file in the daemon's data dir"))
			return
		case !tokenMatches(r, s.token):
			writeError(w, errf(http.StatusUnauthorized, client.CodeUnauthorized,
				"wrong bearer token: use the token from the api.token file in the daemon's data dir (it changes if the file is deleted)"))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// isWebPath reports whether path belongs to the web page.
func isWebPath(path string) bool {
	return path == "/" || strings.HasPrefix(path, "/static/")
}
