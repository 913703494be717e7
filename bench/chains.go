package bench

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
	"github.com/klauspost/compress/gzhttp"
	rscors "github.com/rs/cors"
	"github.com/unrolled/secure"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/idempotency"
	"github.com/jiec/httpmw/negotiate"
	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// ChainOrigin is the CORS origin both chains allow.
const ChainOrigin = "https://app.example.com"

// chainLimit is the rate limit of both chains: high enough that no request
// of a benchmark or a load run is rejected.
const chainLimit = 1 << 40

// OursChain wraps h in the recommended httpmw chain with default configs
// (cors allows ChainOrigin, ratelimit allows chainLimit requests per second
// and client IP, negotiate offers application/json):
// trace → security → cors → ratelimit → idempotency → compress → cache →
// negotiate.
func OursChain(h http.Handler) (http.Handler, error) {
	return OursChainWith(h, security.Config{})
}

// OursChainWith is OursChain with sc as security's config (cmd/fields omits
// headers with it).
func OursChainWith(h http.Handler, sc security.Config) (http.Handler, error) {
	tr, err := trace.New(trace.Config{})
	if err != nil {
		return nil, err
	}
	sec, err := security.New(sc)
	if err != nil {
		return nil, err
	}
	co, err := cors.New(cors.Config{Origins: []string{ChainOrigin}})
	if err != nil {
		return nil, err
	}
	rl, err := ratelimit.New(ratelimit.Config{Policies: []ratelimit.Policy{{Name: "default", Limit: chainLimit, Period: time.Second}}})
	if err != nil {
		return nil, err
	}
	id, err := idempotency.New(idempotency.Config{})
	if err != nil {
		return nil, err
	}
	cm, err := compress.New(compress.Config{})
	if err != nil {
		return nil, err
	}
	ca, err := cache.New(cache.Config{})
	if err != nil {
		return nil, err
	}
	ne, err := negotiate.New(negotiate.Config{Types: []string{"application/json"}})
	if err != nil {
		return nil, err
	}
	return tr.Handler(sec.Handler(co.Handler(rl.Handler(id.Handler(cm.Handler(ca.Handler(ne.Handler(h)))))))), nil
}

// PeersChain wraps h in the chain a Go team would assemble from the popular
// single-purpose libraries: chi RequestID → unrolled/secure (the same
// headers as security's defaults) → rs/cors (ChainOrigin) → go-chi/httprate
// (chainLimit per second and IP) → gzhttp. Idempotency and negotiate have no
// peer: they count against httpmw.
func PeersChain(h http.Handler) (http.Handler, error) {
	gz, err := gzhttp.NewWrapper()
	if err != nil {
		return nil, err
	}
	sec := secure.New(secure.Options{
		STSSeconds:                31536000,
		STSIncludeSubdomains:      true,
		ContentTypeNosniff:        true,
		ReferrerPolicy:            "same-origin",
		PermissionsPolicy:         security.DefaultPermissions().String(),
		ContentSecurityPolicy:     "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'",
		CrossOriginOpenerPolicy:   "same-origin",
		CrossOriginResourcePolicy: "same-origin",
	})
	co := rscors.New(rscors.Options{AllowedOrigins: []string{ChainOrigin}})
	rl := httprate.LimitBy(chainLimit, time.Second, peerIP) // the peer address, as ratelimit's default
	return middleware.RequestID(sec.Handler(co.Handler(rl(gz(h))))), nil
}

// peerIP keys httprate by the peer address (IPv6 by /64), as ratelimit does
// without trusted proxies; httprate's own LimitByIP is deprecated.
func peerIP(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host), nil
}

// Body returns n bytes of JSON-like text that compresses like real HTML/JSON
// (about 4:1 with gzip).
func Body(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"item %d","price":%d.%02d,"tags":["t%d","u%d"]},`, i, i*7919%10007, i%97, i%100, i%13, i%31)
	}
	return b.Bytes()[:n]
}

// Handler is the handler both chains wrap in the load runs and the chain
// benchmarks: /2k and /32k answer application/json bodies of 2 KiB and
// 32 KiB (Body), with one Write; /2k-cc is /2k with one header field more
// from the handler (Cache-Control: no-cache, as many JSON APIs send), which
// takes the peers' chain past the 14 fields a fresh http.Header holds
// without growing (see bench/README.md).
func Handler() http.Handler {
	small, large := Body(2<<10), Body(32<<10)
	serve := func(p []byte, cc bool) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if cc {
				w.Header().Set("Cache-Control", "no-cache")
			}
			_, _ = w.Write(p)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/2k", serve(small, false))
	mux.Handle("/2k-cc", serve(small, true))
	mux.Handle("/32k", serve(large, false))
	return mux
}
