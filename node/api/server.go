package api

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
)

// ServerConfig configures a Server. Only Token is required; every other
// zero field has a working default.
type ServerConfig struct {
	// Token is the bearer token every endpoint but GET /v1/health needs.
	Token string
	// DataDir is where webhooks.json and the vendor filter (filter.json)
	// are kept; "" means they live only as long as the Server.
	DataDir string
	// Registry is served at /metrics, and the API's own metrics are
	// registered with it. Give the daemon's node the same registry (as
	// node.Config.Registerer) to serve the node's metrics too. Nil means a
	// new registry. The Go and process collectors are added to it unless
	// it has them.
	Registry *prometheus.Registry
	// Version is reported by GET /v1/node and in webhooks' User-Agent.
	Version string
	// Logger receives the API's logs. Nil means slog.Default().
	Logger *slog.Logger
	// Web serves the web page at GET / and GET /static/...; nil means no
	// page (those paths answer 404).
	Web http.Handler
	// WebhookClient delivers webhooks. Nil means a client with a 10 s
	// timeout.
	WebhookClient *http.Client
	// WebhookBackoff is the wait before the first retry of a failed
	// delivery; it doubles for each further retry. Zero means 1 s.
	WebhookBackoff time.Duration
	// AllowedHosts are host names, besides IP literals and "localhost",
	// that requests may name in their Host header (see auth.go).
	AllowedHosts []string
}

// maxBody bounds every request body.
const maxBody = 64 << 10

// Server serves the daemon's local HTTP API for one node.
type Server struct {
	n       *node.Node
	cfg     ServerConfig
	log     *slog.Logger
	token   [sha256.Size]byte
	handler http.Handler
	metrics *apiMetrics
	hooks   *webhooks
	// heartbeat spaces the event stream's keep-alive comments.
	heartbeat time.Duration

	// ctx ends at Close: it ends event streams and webhook work.
	ctx       context.Context
	cancel    context.CancelFunc
	done      <-chan struct{} // ctx.Done()
	closeOnce sync.Once
	wg        sync.WaitGroup // goroutines the Server started
}

// NewServer makes the API server of n. Call Close when done with it.
func NewServer(n *node.Node, cfg ServerConfig) (*Server, error) {
	if n == nil {
		return nil, errors.New("api: NewServer needs a node")
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("api: ServerConfig.Token is empty: the API refuses to run without a bearer token (the daemon keeps one in api.token in its data dir)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	// The Go runtime and process metrics, unless the registry has them
	// already (then Register fails, and that is fine).
	_ = cfg.Registry.Register(collectors.NewGoCollector())
	_ = cfg.Registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cfg.WebhookClient == nil {
		cfg.WebhookClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.WebhookBackoff <= 0 {
		cfg.WebhookBackoff = time.Second
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	s := &Server{
		n:     n,
		cfg:   cfg,
		log:   cfg.Logger.With("component", "api"),
		token: sha256.Sum256([]byte(strings.TrimSpace(cfg.Token))),

		heartbeat: heartbeatInterval,
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = s.ctx.Done()
	s.metrics = newAPIMetrics(cfg.Registry)
	if err := s.loadFilter(); err != nil {
		s.cancel()
		return nil, err
	}
	hooks, err := s.newWebhooks()
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.hooks = hooks
	s.handler = s.routes()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.hooks.dispatch()
	}()
	return s, nil
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops webhook delivery and ends open event streams. It is
// idempotent and returns once every goroutine the Server started has
// ended; queued webhook deliveries are dropped.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.hooks.stopAll()
		s.cancel()
		s.wg.Wait()
	})
	return nil
}

// methods routes one path by method, answering 405 with an Allow header
// (and a JSON body) for the others.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	if h, ok := m[http.MethodGet]; ok && r.Method == http.MethodHead {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	slices.Sort(allow)
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, errf(http.StatusMethodNotAllowed, client.CodeMethodNotAllowed,
		"%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
}

// apiHandler serves one endpoint. It returns what went wrong instead of
// writing it, so that each handler reads straight; handle writes the error
// as JSON with its status and code (errorFrom), the same way for all. A
// handler that has begun its response (an event stream) returns nil.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// handlers routes one path by method, like methods, to apiHandlers.
type handlers map[string]apiHandler

// handle adapts h to http.HandlerFunc: h's error is the answer (fail).
func (s *Server) handle(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}
}

// routes builds the handler: metrics and recovery outermost, then the
// guard (host, origin, token, body limit), then the routes.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, hs handlers) {
		m := make(methods, len(hs))
		for method, h := range hs {
			m[method] = s.handle(h)
		}
		mux.Handle(pattern, m)
	}

	route("/v1/health", handlers{"GET": s.health})
	route("/v1/node", handlers{"GET": s.nodeInfo})
	route("/v1/peers", handlers{"GET": s.peers, "POST": s.connectPeer})
	route("/v1/peers/{id}", handlers{"DELETE": s.disconnectPeer})
	route("/v1/network", handlers{"GET": s.network})
	route("/v1/protocol", handlers{"GET": s.protocol})

	route("/v1/intents", handlers{"GET": s.listIntents, "POST": s.publishIntent})
	route("/v1/intents/{id}", handlers{"GET": s.getIntent, "DELETE": s.cancelIntent})
	route("/v1/intents/{id}/cancel", handlers{"POST": s.cancelIntent})
	route("/v1/intents/{id}/offers", handlers{"GET": s.listOffers})
	route("/v1/intents/{id}/offers/{offer}/accept", handlers{"POST": s.accept})
	route("/v1/intents/{id}/threads", handlers{"GET": s.listThreads})
	route("/v1/offers/{id}/thread", handlers{"GET": s.getThread})
	route("/v1/offers/{id}/thread/counter", handlers{"POST": s.counter})
	route("/v1/offers/{id}/thread/reply", handlers{"POST": s.reply})
	route("/v1/deals", handlers{"GET": s.listDeals})
	route("/v1/deals/{id}", handlers{"GET": s.getDeal})
	route("/v1/deals/{id}/record", handlers{"GET": s.dealRecord})
	route("/v1/deals/{id}/rating", handlers{"GET": s.dealRating, "POST": s.rate})
	route("/v1/ratings/{id}", handlers{"GET": s.getRating})
	route("/v1/ratings/{id}/reply", handlers{"POST": s.replyToRating})
	route("/v1/vendors/{key}/reputation", handlers{"GET": s.reputation})
	route("/v1/vendors/{key}/ratings", handlers{"GET": s.vendorRatings})
	route("/v1/vendors/{key}/profile", handlers{"PUT": s.setProfile})

	route("/v1/vendor/filter", handlers{"GET": s.getFilter, "PUT": s.putFilter})
	route("/v1/vendor/feed", handlers{"GET": s.feed})
	route("/v1/vendor/offers", handlers{"GET": s.sentOffers, "POST": s.sendOffer})

	route("/v1/events", handlers{"GET": s.events})

	route("/v1/webhooks", handlers{"GET": s.listWebhooks, "POST": s.addWebhook})
	route("/v1/webhooks/{id}", handlers{"DELETE": s.deleteWebhook})

	metrics := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError),
	})
	mux.Handle("/metrics", methods{"GET": metrics.ServeHTTP})

	mux.HandleFunc("/", s.fallback)
	// The guard limits the body on the request itself: a handler that
	// copied the request (as http.MaxBytesHandler does) would hide the
	// route pattern the mux records in it from instrument.
	return s.instrument(s.guard(mux))
}

// fallback serves the web page, if there is one, and a JSON 404 for every
// other unknown path.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Web != nil && isWebPath(r.URL.Path) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methods{"GET": nil}.ServeHTTP(w, r)
			return
		}
		// No other site may frame the page (clickjacking an accept).
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Add("Content-Security-Policy", "frame-ancestors 'none'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		s.cfg.Web.ServeHTTP(w, r)
		return
	}
	writeError(w, errf(http.StatusNotFound, client.CodeNotFound,
		"no endpoint %s %s; the endpoints are listed in docs/API.md (they start with /v1/)", r.Method, r.URL.Path))
}

// statusRecorder remembers the status a handler wrote, for the metrics
// and the log. Unwrap lets http.ResponseController reach the real writer's
// Flush and deadlines (event streams need both).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts requests by route and status, logs them at debug
// level, and turns a handler's panic into a 500 that says so.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, errf(http.StatusInternalServerError, client.CodeInternal, "the daemon hit a bug handling %s %s (%v); its log has the details", r.Method, r.URL.Path, p))
				}
			}
			route := r.Pattern
			if route == "" || route == "/" {
				route = "unmatched"
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.request(route, status)
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", status, "took", time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

// decode reads a JSON request body into v: one object, no unknown fields
// (a misspelt field must not be silently ignored), at most maxBody bytes.
// An empty body decodes as {} when allowEmpty.
func decode(r *http.Request, v any, allowEmpty bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && allowEmpty {
		return nil
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("more than one JSON value in the body")
		}
	}
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return errf(http.StatusRequestEntityTooLarge, client.CodeBodyTooLarge, "request body is over %d KiB, more than any request needs (a text holds at most %d bytes)", maxBody>>10, intent.MaxText)
	case errors.Is(err, io.EOF):
		return errf(http.StatusBadRequest, client.CodeBadJSON, "request body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return errf(http.StatusBadRequest, client.CodeBadJSON, "request body is not valid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ) && strings.HasPrefix(typ.Value, "number -"):
		// A negative count or amount: say so, in the field's words.
		f := intent.Field(strings.TrimSuffix(typ.Field, "_minor"))
		return intent.FieldErrorf(f, "A negative number is not allowed here (%s).", strings.TrimPrefix(typ.Value, "number "))
	case errors.As(err, &typ) && strings.HasPrefix(typ.Value, "number ") && jsonKind(typ.Type.Kind().String()) == "number":
		// A fraction where a count or an amount in minor units goes.
		f := intent.Field(strings.TrimSuffix(typ.Field, "_minor"))
		return intent.FieldErrorf(f, "Give a whole number here; %s is not one.", strings.TrimPrefix(typ.Value, "number "))
	case errors.As(err, &typ):
		return errf(http.StatusBadRequest, client.CodeBadJSON, "request body field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	return errf(http.StatusBadRequest, client.CodeBadJSON, "request body: %v", err)
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "number"
	case goKind == "slice" || goKind == "array":
		return "array"
	case goKind == "map" || goKind == "struct":
		return "object"
	case goKind == "bool":
		return "boolean"
	case goKind == "ptr":
		return "value"
	}
	return goKind
}

// fail writes err as a JSON error, logging the unexpected ones.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := errorFrom(err)
	if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, e)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

func (s *Server) nodeInfo(w http.ResponseWriter, r *http.Request) error {
	vendor, _ := nodeVendor(s.n)
	info := client.NodeInfo{
		PeerID:       s.n.ID().String(),
		Addrs:        addrStrings(s.n.Addrs()),
		Categories:   s.n.Categories(),
		Version:      s.cfg.Version,
		MinWork:      s.n.Policy().MinWorkFor(""),
		MinOfferWork: s.n.Policy().OfferWork(),
		Vendor:       vendorView(vendor, s.n.Identity().Signing.Public()),
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) protocol(w http.ResponseWriter, r *http.Request) error {
	def := termNames(intent.DefaultTerms())
	writeJSON(w, http.StatusOK, client.ProtocolInfo{
		Categories:   intent.Categories,
		Served:       s.n.Categories(),
		Terms:        intent.Roster,
		DefaultTerms: def,
		Currencies:   currencyHints(),
		Limits: client.Limits{
			MaxText: intent.MaxText, MaxPathDepth: intent.MaxPathDepth, MaxPathSegment: intent.MaxPathSegment,
			MaxQuantity: intent.MaxQuantity, MaxCustomTerms: intent.MaxCustomTerms,
			MaxLifetime: fmt.Sprint(intent.MaxLifetime), MaxOfferTTL: fmt.Sprint(intent.MaxOfferTTL),
			MaxAcceptDetail: maxDetails,
		},
	})
	return nil
}
