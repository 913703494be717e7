package bench

// The peer libraries the benchmarks compare against. Importing them here keeps
// them in this module's go.mod (and out of the core one).
import (
	_ "github.com/CAFxX/httpcompression"
	_ "github.com/elnormous/contenttype"
	_ "github.com/go-chi/chi/v5/middleware"
	_ "github.com/golang/gddo/httputil"
	_ "github.com/klauspost/compress/gzhttp"
	_ "github.com/rs/cors"
	_ "github.com/unrolled/secure"
	_ "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	_ "golang.org/x/text/language"
)
