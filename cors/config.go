package cors

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/slots"
)

// NoPreflightCache as Config.MaxAge sends "Access-Control-Max-Age: 0", which
// tells browsers not to cache preflight results at all.
const NoPreflightCache = -time.Second

// maxMaxAge is the largest Config.MaxAge New accepts (Firefox's cap).
const maxMaxAge = 24 * time.Hour

// Config configures the CORS middleware. New validates it and copies it:
// changing a Config (or its slices) after New has no effect.
//
// The zero Config allows no origin, which New reports as an error: a CORS
// middleware must name who it lets in.
type Config struct {
	// Origins are the origins allowed to read responses, each in the exact
	// form browsers send in the Origin header:
	//
	//   - "https://app.example.com" or "http://localhost:8080": scheme, host
	//     and port, lowercase, default port omitted, no path or trailing slash;
	//   - "https://*.example.com": any subdomain (one or more labels) of
	//     example.com with that scheme and port, never example.com itself and
	//     never "https://evilexample.com". The base (example.com) must not be
	//     a public suffix ("https://*.github.io", "https://*.co.uk"; Public
	//     Suffix List of golang.org/x/net/publicsuffix), with or without
	//     Credentials, unless DangerouslyAllowPublicSuffixSubdomains;
	//   - "http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*" (any
	//     scheme, any loopback address): any port, and no port, for
	//     development servers that pick their port at random. On other hosts
	//     a port wildcard needs DangerouslyAllowPortWildcards;
	//   - IPv6 hosts as browsers serialize them (WHATWG URL): lowercase hex,
	//     the longest zero run as "::", IPv4-mapped addresses in hex
	//     ("https://[::ffff:7f00:1]", not "[::ffff:127.0.0.1]");
	//   - "*": any origin, anonymous requests only (not with Credentials);
	//   - "null": the opaque origin of sandboxed iframes, data: URLs and
	//     cross-origin redirects, only with DangerouslyAllowNullOrigin.
	//
	// There is no option that reflects every origin, and no callback.
	Origins []string

	// Credentials allows credentialed requests (cookies, HTTP
	// authentication, TLS client certificates):
	// "Access-Control-Allow-Credentials: true" goes with every allowed
	// origin. It cannot be combined with the "*" origin.
	Credentials bool

	// Methods are the methods preflights may ask for, besides the
	// CORS-safelisted GET, HEAD and POST, which are always allowed. Method
	// names are case-sensitive except DELETE, GET, HEAD, OPTIONS, POST and
	// PUT, which are upper-cased as browsers do. A case variant of another
	// registered method ("patch", "Propfind") is rejected as a typo: it
	// would never match the PATCH a browser sends. "*" allows any method.
	// CONNECT, TRACE and TRACK are rejected: browsers never send them.
	// The list applies to preflights only: actual requests get their CORS
	// headers whatever their method.
	Methods []string

	// RequestHeaders are the request-header names preflights may ask for
	// (case-insensitive). "*" allows any name except Authorization when
	// Credentials is false (Authorization must then be listed as well, as
	// the Fetch standard requires), and any name when Credentials is true
	// (the requested names are echoed, if they are valid header names).
	// Forbidden request headers (Cookie, Host, Origin, Proxy-*, Sec-*, …)
	// are rejected: browsers never let scripts send them.
	RequestHeaders []string

	// ExposedHeaders are the response-header names scripts may read besides
	// the safelisted ones (Cache-Control, Content-Language, Content-Length,
	// Content-Type, Expires, Last-Modified, Pragma, which are dropped). "*"
	// exposes every name, anonymous requests only. Set-Cookie is rejected.
	ExposedHeaders []string

	// MaxAge is how long browsers may cache a preflight result, in whole
	// seconds up to 24h. Zero omits Access-Control-Max-Age, so
	// browsers use their default of 5 s; NoPreflightCache sends 0. Browsers
	// cap the value: Chromium at 2 h (7200 s), Firefox at 24 h (86400 s),
	// WebKit/Safari at 10 min (600 s).
	MaxAge time.Duration

	// PrivateNetwork answers "Access-Control-Request-Private-Network: true"
	// preflights with "Access-Control-Allow-Private-Network: true" (WICG
	// Private Network Access), letting public sites reach this server on a
	// private network. Without it, such preflights are answered like any
	// other, only without Access-Control-Allow-Private-Network: the browser
	// then decides (it blocks the request where PNA is enforced, and only
	// warns where it is not; Chrome has put enforcement on hold).
	PrivateNetwork bool

	// PreflightStatus is the status of a successful preflight response; it
	// must be an ok status (200-299). Zero means 204 No Content.
	PreflightStatus int

	// PreflightPassthrough passes preflight requests on to the next handler
	// after setting the CORS headers (when the preflight succeeds), instead
	// of answering them. The handler then writes the status.
	PreflightPassthrough bool

	// DangerouslyAllowNullOrigin permits "null" in Origins. Any page can
	// produce a null origin (a sandboxed iframe suffices), so allowing it,
	// above all with Credentials, lets every site in.
	DangerouslyAllowNullOrigin bool

	// DangerouslyAllowInsecureOrigins permits http:// (and ws://) origins
	// together with Credentials. Anyone on the network path of such an
	// origin can inject script into it and read credentialed responses.
	// Loopback origins (localhost, 127.0.0.0/8, [::1]; not IPv4-mapped
	// addresses) are always permitted.
	DangerouslyAllowInsecureOrigins bool

	// DangerouslyAllowPublicSuffixSubdomains permits a subdomain pattern
	// whose base is a public suffix ("https://*.github.io",
	// "https://*.co.uk", "https://*.herokuapp.com"; the Public Suffix List
	// of golang.org/x/net/publicsuffix decides), with or without
	// Credentials. Anyone can register a name under a public suffix, so such
	// a pattern lets every site there in.
	DangerouslyAllowPublicSuffixSubdomains bool

	// DangerouslyAllowPortWildcards permits a port wildcard
	// ("https://example.com:*") on hosts other than the loopback ones
	// (localhost, 127.0.0.0/8, [::1]), where it is always allowed. Every
	// service on any port of such a host can then read responses.
	DangerouslyAllowPortWildcards bool

	// ErrorHandler answers failed preflights, with err one of
	// ErrOriginNotAllowed, ErrMethodNotAllowed, ErrHeaderNotAllowed. The default writes a 403 problem+json
	// response without any CORS header. Browsers fail a preflight whose
	// response lacks the CORS headers whatever its status; a 403 makes the
	// failure visible in logs. It is not used with PreflightPassthrough.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Preflight failures passed to Config.ErrorHandler.
var (
	ErrOriginNotAllowed = errors.New("cors: origin not allowed")
	ErrMethodNotAllowed = errors.New("cors: method not allowed")
	ErrHeaderNotAllowed = errors.New("cors: request header not allowed")
)

// compiled is the validated, precomputed form of a Config.
type compiled struct {
	anyOrigin   bool // "*": never with credentials
	exact       map[string]struct{}
	exactList   []string // exact when it is small: a linear scan beats hashing
	patterns    []pattern
	credentials bool
	// actualValues is how many header values an allowed actual request
	// gets: ACAO, plus ACAC and ACEH when configured.
	actualValues int

	anyMethod bool
	methods   []string

	anyHeader    bool
	acahWildcard string // "*" or "*,authorization"
	headers      map[string]struct{}
	maxNameLen   int
	maxElems     int

	aceh           string
	acma           string // "" when not sent
	privateNetwork bool
	status         int
	passthrough    bool
	errorHandler   func(http.ResponseWriter, *http.Request, error)

	// Preflight answers: every value goes into the response in a slot of
	// its own, taken from slabs (see internal/slots), so no two responses,
	// the config and the request share memory, and a preflight still costs
	// no allocation (amortized).
	preflightVary string
	varyNames     []string
	slabs         slots.Pool
	failures      [numReasons]*problem.Prepared // precomputed 403s
}

// smallOrigins is how many exact origins are compared one by one rather than
// hashed.
const smallOrigins = 8

// Bounds on the Access-Control-Request-Headers value: browsers send each name
// once, lowercase, comma-separated without empty elements.
const (
	maxEmptyElems  = 16
	minElemsBudget = 16
)

func fieldErr(field, problem, value string) error {
	return fmt.Errorf("cors: %s: %s (value %q)", field, problem, value)
}

func compile(cfg *Config) (*compiled, error) {
	c := &compiled{
		exact:        map[string]struct{}{},
		headers:      map[string]struct{}{},
		credentials:  cfg.Credentials,
		status:       cfg.PreflightStatus,
		passthrough:  cfg.PreflightPassthrough,
		errorHandler: cfg.ErrorHandler,
	}
	var errs []error
	errs = c.compileOrigins(errs, cfg)
	errs = c.compileMethods(errs, cfg.Methods)
	errs = c.compileRequestHeaders(errs, cfg.RequestHeaders)
	errs = c.compileExposedHeaders(errs, cfg.ExposedHeaders)
	switch ma := cfg.MaxAge; {
	case ma == 0:
	case ma == NoPreflightCache:
		c.acma = "0"
	case ma < NoPreflightCache || ma > maxMaxAge:
		errs = append(errs, fieldErr("MaxAge", "must be between -1s (NoPreflightCache) and 24h (browsers cap it: Chromium 2h, Firefox 24h, WebKit 10m)", ma.String()))
	case ma%time.Second != 0:
		errs = append(errs, fieldErr("MaxAge", "must be a whole number of seconds", ma.String()))
	default:
		c.acma = strconv.FormatInt(int64(ma/time.Second), 10)
	}
	switch {
	case c.status == 0:
		c.status = http.StatusNoContent
	case c.status < 200 || c.status > 299:
		errs = append(errs, fieldErr("PreflightStatus", "must be an ok status (200-299); browsers fail preflights with any other", strconv.Itoa(c.status)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	c.privateNetwork = cfg.PrivateNetwork
	c.actualValues = 1
	if c.credentials {
		c.actualValues++
	}
	if c.aceh != "" {
		c.actualValues++
	}
	c.varyNames = []string{hACRM, hACRH}
	if !c.anyOrigin {
		c.varyNames = append([]string{hOrigin}, c.varyNames...)
	}
	if c.privateNetwork {
		c.varyNames = append(c.varyNames, hACRPN)
	}
	c.preflightVary = strings.Join(c.varyNames, ", ")
	for i, detail := range failureDetails {
		c.failures[i] = problem.Prepare(problem.Details{Status: http.StatusForbidden, Detail: detail})
	}
	return c, nil
}

func (c *compiled) compileOrigins(errs []error, cfg *Config) []error {
	if len(cfg.Origins) == 0 {
		return append(errs, errors.New("cors: Origins: at least one origin is required"))
	}
	for _, s := range cfg.Origins {
		switch {
		case s == "*":
			if cfg.Credentials {
				errs = append(errs, fieldErr("Origins", "\"*\" cannot be combined with Credentials (browsers reject it, and reflecting every origin instead would let any site read credentialed responses)", s))
			}
			c.anyOrigin = true
			continue
		case s == "null":
			if !cfg.DangerouslyAllowNullOrigin {
				errs = append(errs, fieldErr("Origins", "the null origin can be produced by any page (sandboxed iframe); allowing it needs DangerouslyAllowNullOrigin", s))
			}
			c.exact[s] = struct{}{}
			continue
		}
		wildcard := strings.HasPrefix(s, "*") || strings.Contains(s, "://*")
		o, reason := parseOrigin(s, wildcard)
		if reason == reasonIPv6 {
			reason += "; browsers send " + strconv.Quote(o.browserForm())
		}
		if reason != "" {
			errs = append(errs, fieldErr("Origins", reason, s))
			continue
		}
		anyPort := o.port == "*"
		if anyPort && !cfg.DangerouslyAllowPortWildcards && (wildcard || !isLoopbackHost(o.host)) {
			errs = append(errs, fieldErr("Origins", "a port wildcard is allowed only on localhost, 127.0.0.0/8 and [::1] (for development servers); elsewhere every service on any port of the host could read responses, which needs DangerouslyAllowPortWildcards", s))
			continue
		}
		if wildcard && !cfg.DangerouslyAllowPublicSuffixSubdomains {
			base := o.host[2:]
			if ps, _ := publicsuffix.PublicSuffix(base); ps == base && base != "localhost" {
				errs = append(errs, fieldErr("Origins", "the wildcard's base "+strconv.Quote(base)+" is a public suffix (Public Suffix List): anyone can register a subdomain there, so this allows every site under it (use \"*\" for a public anonymous API, list the origins, or set DangerouslyAllowPublicSuffixSubdomains)", s))
				continue
			}
		}
		if cfg.Credentials && !cfg.DangerouslyAllowInsecureOrigins && !isPotentiallyTrustworthy(o) {
			errs = append(errs, fieldErr("Origins", "insecure origin with Credentials: anyone on its network path can read credentialed responses; use https or set DangerouslyAllowInsecureOrigins", s))
			continue
		}
		if !wildcard && !anyPort {
			c.exact[s] = struct{}{}
			continue
		}
		p := pattern{prefix: o.scheme + "://", host: o.host, port: o.port, sub: wildcard}
		if wildcard {
			p.host = o.host[1:] // ".example.com"
			p.hostLen = len(p.host)
		}
		if p.port != "" && p.port != "*" {
			p.port = ":" + p.port
		}
		if !slices.Contains(c.patterns, p) {
			c.patterns = append(c.patterns, p)
		}
	}
	if c.anyOrigin {
		// "*" covers everything else.
		c.exact, c.patterns = nil, nil
	} else if len(c.exact) <= smallOrigins {
		c.exactList = slices.Sorted(maps.Keys(c.exact))
	}
	return errs
}

func (c *compiled) compileMethods(errs []error, methods []string) []error {
	for _, m := range methods {
		switch {
		case m == "*":
			c.anyMethod = true
		case !header.IsToken(m):
			errs = append(errs, fieldErr("Methods", "not a valid method token", m))
		case isForbiddenMethod(m):
			errs = append(errs, fieldErr("Methods", "forbidden method: browsers never send it", m))
		case registeredVariant(m) != "":
			std := registeredVariant(m)
			errs = append(errs, fieldErr("Methods", "case variant of "+std+": methods other than DELETE, GET, HEAD, OPTIONS, POST and PUT are case-sensitive and browsers send them as the script wrote them, so this never matches a request for "+std+"; write "+std, m))
		default:
			m = normalizeMethod(m)
			if isSafelistedMethod(m) || slices.Contains(c.methods, m) {
				continue
			}
			c.methods = append(c.methods, m)
		}
	}
	return errs
}

func (c *compiled) compileRequestHeaders(errs []error, names []string) []error {
	for _, n := range names {
		if n == "*" {
			c.anyHeader = true
			continue
		}
		lower, err := headerName("RequestHeaders", n, isForbiddenRequestHeader, "forbidden request header: browsers never let scripts set it")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.headers[lower] = struct{}{}
		c.maxNameLen = max(c.maxNameLen, len(lower))
	}
	if c.anyHeader {
		c.acahWildcard = "*"
		if _, ok := c.headers["authorization"]; ok {
			// Fetch: Authorization is a "CORS non-wildcard request-header
			// name"; "*" never covers it (whatwg/fetch#251).
			c.acahWildcard = "*,authorization"
		}
	}
	// Browsers list each name once; leave room for sloppy non-browser
	// clients but keep the work per preflight bounded.
	c.maxElems = min(header.MaxElements, max(minElemsBudget, 2*len(c.headers)))
	if c.anyHeader {
		c.maxElems = header.MaxElements
	}
	return errs
}

func (c *compiled) compileExposedHeaders(errs []error, names []string) []error {
	var list []string
	star := false
	for _, n := range names {
		if n == "*" {
			if c.credentials {
				errs = append(errs, fieldErr("ExposedHeaders", "\"*\" is a literal name, not a wildcard, for credentialed requests", n))
			}
			star = true
			continue
		}
		lower, err := headerName("ExposedHeaders", n, isForbiddenResponseHeader, "forbidden response header: browsers never expose it")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if isSafelistedResponseHeader(lower) || slices.Contains(list, lower) {
			continue
		}
		list = append(list, lower)
	}
	if star {
		c.aceh = "*"
		return errs
	}
	slices.Sort(list)
	c.aceh = strings.Join(list, ",")
	return errs
}

// headerName validates a configured header name and returns it lowercase.
func headerName(field, name string, forbidden func(lower string) bool, why string) (string, error) {
	if !header.IsToken(name) {
		return "", fieldErr(field, "not a valid header name", name)
	}
	lower := strings.ToLower(name)
	if forbidden(lower) {
		return "", fieldErr(field, why, name)
	}
	return lower, nil
}
