package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed index.html static
var files embed.FS

// contentSecurityPolicy allows the page only its own scripts, styles and
// API: no inline script, no other origin. It is a second wall behind the
// page's rule of never putting data in the DOM as HTML.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the types of the embedded files, by extension; the
// system's MIME table is not consulted, so the answer is the same on every
// machine.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

// Handler serves the page: GET / is index.html, GET /static/<file> the
// embedded assets. Every other path, and any method but GET and HEAD, is
// refused.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := fileName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	ct, ok := contentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	// The page changes with the binary; the browser asks again each time
	// (the answer is small and local).
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	// Added to, not replacing, any policy the API server sets: every
	// policy a response carries is enforced.
	h.Add("Content-Security-Policy", contentSecurityPolicy)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// fileName maps a request path to an embedded file: "/" is index.html and
// "/static/..." the static directory. Paths that are not clean (".."
// elements, double slashes) or name a directory are not served.
func fileName(p string) (string, bool) {
	if p == "/" {
		return "index.html", true
	}
	rest, ok := strings.CutPrefix(p, "/static/")
	if !ok || rest == "" || path.Clean(p) != p || strings.HasSuffix(p, "/") {
		return "", false
	}
	return "static/" + rest, true
}
