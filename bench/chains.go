package bench

import (
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/klauspost/compress/gzhttp"
	rscors "github.com/rs/cors"
	"github.com/unrolled/secure"

	"github.com/jiec/httpmw/cache"
	"github.com/jiec/httpmw/compress"
	"github.com/jiec/httpmw/cors"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// ChainOrigin is the CORS origin both chains allow.
const ChainOrigin = "https://app.example.com"

// OursChain wraps h in the recommended httpmw chain with default configs
// (cors allows ChainOrigin): trace → security → cors → compress → cache.
func OursChain(h http.Handler) (http.Handler, error) {
	tr, err := trace.New(trace.Config{})
	if err != nil {
		return nil, err
	}
	sec, err := security.New(security.Config{})
	if err != nil {
		return nil, err
	}
	co, err := cors.New(cors.Config{Origins: []string{ChainOrigin}})
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
	return tr.Handler(sec.Handler(co.Handler(cm.Handler(ca.Handler(h))))), nil
}

// PeersChain wraps h in the chain a Go team would assemble from the popular
// single-purpose libraries: chi RequestID → unrolled/secure (the same
// headers as security's defaults) → rs/cors (ChainOrigin) → gzhttp.
func PeersChain(h http.Handler) (http.Handler, error) {
	gz, err := gzhttp.NewWrapper()
	if err != nil {
		return nil, err
	}
	sec := secure.New(secure.Options{
		STSSeconds:                    31536000,
		STSIncludeSubdomains:          true,
		ContentTypeNosniff:            true,
		CustomFrameOptionsValue:       "SAMEORIGIN",
		ReferrerPolicy:                "same-origin",
		PermissionsPolicy:             security.DefaultPermissions().String(),
		ContentSecurityPolicy:         "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'",
		CrossOriginOpenerPolicy:       "same-origin",
		CrossOriginResourcePolicy:     "same-origin",
		XDNSPrefetchControl:           "off",
		XPermittedCrossDomainPolicies: "none",
	})
	co := rscors.New(rscors.Options{AllowedOrigins: []string{ChainOrigin}})
	return middleware.RequestID(sec.Handler(co.Handler(gz(h)))), nil
}
