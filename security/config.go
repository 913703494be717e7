package security

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/slots"
)

// Config configures the middleware. The zero value sends the safe defaults
// listed on each field; every header can be changed or, through Omit, turned
// off. New copies the Config: changing it afterwards has no effect.
type Config struct {
	// HSTS configures Strict-Transport-Security, sent on HTTPS responses only.
	HSTS HSTS

	// TrustedProxies lists the addresses or prefixes ("10.0.0.0/8",
	// "192.0.2.7", "fd00::/8") of reverse proxies that terminate TLS. A request
	// whose peer address is in one of them counts as HTTPS when the proxy
	// says so in Forwarded (RFC 7239), X-Forwarded-Proto, or both, and
	// neither of the two present says otherwise: a proxy that manages only
	// one of them passes the other through from the client, so a client's
	// https there cannot override the proxy's http. In Forwarded, the proto
	// of the element written by the trusted proxy nearest the client counts:
	// starting from the last element, the walk moves left while an element's
	// for= names a trusted proxy (so a chain such as CDN → load balancer
	// works when both are listed). In X-Forwarded-Proto, which records no
	// hops, the last element counts: inner proxies must keep the edge
	// proxy's value rather than append their own. Other peers cannot claim
	// HTTPS.
	TrustedProxies []string

	// RedirectHosts turns on the HTTP→HTTPS redirect: a request that is not
	// HTTPS and whose Host (without port, case-insensitive) is listed gets
	// 301 Moved Permanently (GET, HEAD) or 308 Permanent Redirect (other
	// methods) to the same URL with https. Other hosts get 421 Misdirected
	// Request through ErrorHandler, so a forged Host never becomes an open
	// redirect. Empty (the default): no redirect. Behind a proxy that
	// terminates TLS, list it in TrustedProxies, or every request looks like
	// plain HTTP and the redirect loops.
	RedirectHosts []string
	// RedirectPort is the HTTPS port the redirect targets. 0 (or 443) means
	// https's default port, whatever port the plain-HTTP request came to:
	// behind a proxy the public ports are 80 and 443, and a development
	// server's plain-HTTP port (":8080") cannot also speak TLS. Set it to
	// the TLS port otherwise (e.g. 8443 in development).
	RedirectPort int

	// CSP is the Content-Security-Policy. The zero Policy means DefaultPolicy().
	CSP Policy
	// CSPReportOnly is the Content-Security-Policy-Report-Only policy, sent
	// only when set. To trial a policy without enforcing it, set it here and
	// put "Content-Security-Policy" in Omit.
	CSPReportOnly Policy
	// ReportingEndpoints are sent as Reporting-Endpoints; a report-to
	// directive must name one of them.
	ReportingEndpoints []Endpoint

	// FrameOptions is X-Frame-Options: "DENY" or "SAMEORIGIN". Empty sends
	// SAMEORIGIN only when the enforced policy has no frame-ancestors (an
	// explicit CSP without it, or the CSP omitted): browsers ignore
	// X-Frame-Options next to frame-ancestors (HTML, "check a navigation
	// response's adherence to X-Frame-Options"), and the default policy has
	// frame-ancestors 'self'. A set FrameOptions is always sent. With CSP
	// left at its default, it also sets the default policy's frame-ancestors
	// (DENY → 'none', SAMEORIGIN → 'self'); with an explicit CSP, New
	// rejects a value that contradicts frame-ancestors. New also rejects
	// FrameOptions together with X-Frame-Options in Omit.
	FrameOptions string
	// ReferrerPolicy is Referrer-Policy, one token or a comma-separated
	// fallback list. Default "same-origin": full referrer within the site,
	// none to other sites, and unlike no-referrer it keeps Origin on
	// same-origin form posts (Fetch §3.1.7), which CSRF checks rely on.
	ReferrerPolicy string
	// Permissions is the Permissions-Policy. The zero value means
	// DefaultPermissions().
	Permissions Permissions
	// CrossOriginOpenerPolicy: "same-origin" (default),
	// "same-origin-allow-popups", "noopener-allow-popups" or "unsafe-none".
	CrossOriginOpenerPolicy string
	// CrossOriginResourcePolicy: "same-origin" (default), "same-site" or
	// "cross-origin" (needed for assets other sites embed).
	CrossOriginResourcePolicy string
	// CrossOriginEmbedderPolicy is opt-in (helmet#411: it breaks embedded
	// cross-origin content): "require-corp", "credentialless" or
	// "unsafe-none". Empty: not sent.
	CrossOriginEmbedderPolicy string
	// OriginAgentCluster is opt-in: "?1" or "?0". Empty: not sent.
	// Chromium has keyed agent clusters by origin by default since 115
	// (2023), which is what "?1" asks for, and no other engine reads the
	// header: by default it would only cost every response a field.
	OriginAgentCluster string
	// DNSPrefetchControl is X-DNS-Prefetch-Control, opt-in: "off" or "on".
	// Empty: not sent. The header is non-standard, and browsers already skip
	// prefetching the hosts of links on HTTPS pages, the pages whose DNS
	// traffic it would keep private.
	DNSPrefetchControl string
	// PermittedCrossDomainPolicies is X-Permitted-Cross-Domain-Policies,
	// opt-in: "none", "master-only", "by-content-type", "by-ftp-filename",
	// "all" or "none-this-response". Empty: not sent. It tells Adobe Flash
	// and Acrobat which crossdomain.xml policy files to honour; no browser
	// reads it (Flash is gone, and browsers' PDF viewers ignore policy
	// files), and without a policy file on the site it changes nothing.
	PermittedCrossDomainPolicies string

	// DisableXSSAuditor sends "X-XSS-Protection: 0", which turns off the
	// XSS auditor of old browsers (OWASP and helmet recommend it: the
	// auditor's "1; mode=block" can be abused to leak data, helmet#230).
	// Current browsers have no auditor and ignore the header.
	DisableXSSAuditor bool

	// Omit lists headers not to send, by name (case-insensitive), e.g.
	// "Cross-Origin-Resource-Policy" for assets other sites embed. Only
	// headers this package sets are accepted, and not those the Config sets
	// explicitly (CSP, CSPReportOnly, FrameOptions, CrossOriginEmbedderPolicy,
	// OriginAgentCluster, DNSPrefetchControl, PermittedCrossDomainPolicies,
	// DisableXSSAuditor, HSTS.Preload): New reports the contradiction.
	Omit []string

	// ErrorHandler answers requests the middleware rejects (421 for an HTTP
	// request to a host not in RedirectHosts). The default writes RFC 9457
	// problem+json with the status carried by the *StatusError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// HSTS configures Strict-Transport-Security (RFC 6797). The zero value sends
// "max-age=31536000; includeSubDomains" on HTTPS responses. The header is never
// sent over plain HTTP (RFC 6797 §7.2).
type HSTS struct {
	// MaxAge is how long browsers remember to use HTTPS only, in whole
	// seconds (New rejects fractions and negative values). 0 means one year
	// (31536000 s). ForgetHSTS sends max-age=0, which tells browsers to
	// forget the policy.
	MaxAge time.Duration
	// ExcludeSubDomains drops includeSubDomains.
	ExcludeSubDomains bool
	// Preload adds preload, the opt-in to browsers' built-in HSTS lists
	// (hstspreload.org). New then requires MaxAge ≥ one year and
	// includeSubDomains, as the list's submission rules do.
	Preload bool
}

// Endpoint is one member of Reporting-Endpoints (Reporting API): a name that a
// CSP report-to directive refers to, and the URL reports go to (https, or an
// absolute path on this site; browsers ignore insecure endpoints).
type Endpoint struct {
	Name string
	URL  string
}

// StatusError is the error ErrorHandler receives; Status is the HTTP status
// the middleware would answer with.
type StatusError struct {
	Status int
	Detail string
}

func (e *StatusError) Error() string { return "security: " + e.Detail }

// Header names this package sets.
const (
	hdrHSTS        = "Strict-Transport-Security"
	hdrCSP         = "Content-Security-Policy"
	hdrCSPRO       = "Content-Security-Policy-Report-Only"
	hdrReporting   = "Reporting-Endpoints"
	hdrXCTO        = "X-Content-Type-Options"
	hdrXFO         = "X-Frame-Options"
	hdrReferrer    = "Referrer-Policy"
	hdrPermissions = "Permissions-Policy"
	hdrCOOP        = "Cross-Origin-Opener-Policy"
	hdrCORP        = "Cross-Origin-Resource-Policy"
	hdrCOEP        = "Cross-Origin-Embedder-Policy"
	hdrOAC         = "Origin-Agent-Cluster"
	hdrDNSPrefetch = "X-Dns-Prefetch-Control"
	hdrCrossDomain = "X-Permitted-Cross-Domain-Policies"
	hdrXXSS        = "X-Xss-Protection"
	hdrPoweredBy   = "X-Powered-By"
)

var managed = []string{
	hdrHSTS, hdrCSP, hdrCSPRO, hdrReporting, hdrXCTO, hdrXFO, hdrReferrer, hdrPermissions,
	hdrCOOP, hdrCORP, hdrCOEP, hdrOAC, hdrDNSPrefetch, hdrCrossDomain, hdrXXSS,
}

const oneYear = 365 * 24 * time.Hour

// ForgetHSTS as HSTS.MaxAge sends "max-age=0", which tells browsers to
// forget this host's HSTS policy (RFC 6797 §6.1.1); other negative values
// are rejected by New.
const ForgetHSTS = -time.Second

// compiled is the validated, precomputed form of a Config.
type compiled struct {
	// static are the headers every response gets, in order: keys are
	// canonical, values precomputed.
	static []field
	hsts   string // "" when HSTS is omitted
	// csp and cspRO are precomputed values, or nonce templates when they
	// contain RequestNonce (parts joined by the nonce).
	csp, cspRO    template
	nonce         bool
	trusted       []netip.Prefix
	redirectHosts []string // lowercase host names
	redirectPort  string   // "" (https's default) or ":port"
	errorHandler  func(http.ResponseWriter, *http.Request, error)
	// slabs back the values of responses without a nonce, one slot per
	// field: no response shares a value with another, and a request
	// allocates nothing (internal/slots).
	slabs slots.Pool
}

type field struct{ key, value string }

// template is a header value with nonce holes: parts[0] nonce parts[1] ...
type template struct{ parts []string }

func (t template) set() bool { return len(t.parts) > 0 }

// checker collects every configuration problem, so that New reports them
// all at once.
type checker struct{ errs []error }

func (ck *checker) bad(format string, args ...any) {
	ck.errs = append(ck.errs, fmt.Errorf("security: "+format, args...))
}

// compile validates cfg and precomputes every header value.
func compile(cfg Config) (*compiled, error) {
	ck := new(checker)
	c := &compiled{errorHandler: cfg.ErrorHandler}
	if c.errorHandler == nil {
		c.errorHandler = defaultErrorHandler
	}

	omit := map[string]bool{}
	for _, name := range cfg.Omit {
		k := http.CanonicalHeaderKey(name)
		if !slices.Contains(managed, k) {
			ck.bad("Omit: not a header this package sets (value %q)", name)
			continue
		}
		omit[k] = true
	}

	if hsts := hstsValue(cfg.HSTS, omit[hdrHSTS], ck); !omit[hdrHSTS] {
		c.hsts = hsts
	}
	c.compileTransport(cfg, ck)
	endpoints, reporting := reportingEndpoints(cfg.ReportingEndpoints, ck)

	policy := cfg.CSP
	if policy.IsZero() {
		policy = DefaultPolicy()
		// The default policy follows an explicit FrameOptions rather than
		// contradicting it.
		switch strings.ToUpper(cfg.FrameOptions) {
		case "DENY":
			policy = policy.Set(FrameAncestors, None)
		case "SAMEORIGIN":
			policy = policy.Set(FrameAncestors, Self)
		}
	} else if omit[hdrCSP] {
		ck.bad("CSP: set, but Content-Security-Policy is in Omit, so it is never sent (and Nonce(ctx) would be empty for its nonce) (value %q)", cfg.CSP.String())
	}
	ck.errs = append(ck.errs, validatePolicy("CSP", policy, true, endpoints)...)
	if !cfg.CSPReportOnly.IsZero() {
		ck.errs = append(ck.errs, validatePolicy("CSPReportOnly", cfg.CSPReportOnly, false, endpoints)...)
		if omit[hdrCSPRO] {
			ck.bad("CSPReportOnly: set, but Content-Security-Policy-Report-Only is in Omit, so it is never sent (value %q)", cfg.CSPReportOnly.String())
		}
	}
	if cfg.FrameOptions != "" && omit[hdrXFO] {
		ck.bad("FrameOptions: set, but X-Frame-Options is in Omit (value %q)", cfg.FrameOptions)
	}
	if cfg.DisableXSSAuditor && omit[hdrXXSS] {
		ck.bad("DisableXSSAuditor: set, but X-XSS-Protection is in Omit (value %q)", "true")
	}
	enforced := !omit[hdrCSP]
	if enforced {
		c.csp = compilePolicy(policy)
	}
	if !cfg.CSPReportOnly.IsZero() && !omit[hdrCSPRO] {
		c.cspRO = compilePolicy(cfg.CSPReportOnly)
	}
	c.nonce = len(c.csp.parts) > 1 || len(c.cspRO.parts) > 1

	xfo := frameOptions(cfg.FrameOptions, policy, enforced, ck)
	ref := referrerPolicy(cfg.ReferrerPolicy, ck)
	perms := cfg.Permissions
	if perms.IsZero() {
		perms = DefaultPermissions()
	}
	ck.errs = append(ck.errs, validatePermissions(perms)...)

	enum := func(name, v, def string, allowed ...string) string {
		if v == "" {
			return def
		}
		if !slices.Contains(allowed, v) {
			ck.bad("%s: want one of %s (value %q)", name, strings.Join(allowed, ", "), v)
		}
		return v
	}
	coop := enum("CrossOriginOpenerPolicy", cfg.CrossOriginOpenerPolicy, "same-origin",
		"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none")
	corp := enum("CrossOriginResourcePolicy", cfg.CrossOriginResourcePolicy, "same-origin",
		"same-origin", "same-site", "cross-origin")
	coep := enum("CrossOriginEmbedderPolicy", cfg.CrossOriginEmbedderPolicy, "",
		"require-corp", "credentialless", "unsafe-none")
	oac := enum("OriginAgentCluster", cfg.OriginAgentCluster, "", "?1", "?0")
	dns := enum("DNSPrefetchControl", cfg.DNSPrefetchControl, "", "off", "on")
	xdp := enum("PermittedCrossDomainPolicies", cfg.PermittedCrossDomainPolicies, "",
		"none", "master-only", "by-content-type", "by-ftp-filename", "all", "none-this-response")
	if coep != "" && omit[hdrCOEP] {
		ck.bad("CrossOriginEmbedderPolicy: set, but Cross-Origin-Embedder-Policy is in Omit (value %q)", coep)
	}
	if oac != "" && omit[hdrOAC] {
		ck.bad("OriginAgentCluster: set, but Origin-Agent-Cluster is in Omit (value %q)", oac)
	}
	if dns != "" && omit[hdrDNSPrefetch] {
		ck.bad("DNSPrefetchControl: set, but X-DNS-Prefetch-Control is in Omit (value %q)", dns)
	}
	if xdp != "" && omit[hdrCrossDomain] {
		ck.bad("PermittedCrossDomainPolicies: set, but X-Permitted-Cross-Domain-Policies is in Omit (value %q)", xdp)
	}

	if len(ck.errs) > 0 {
		return nil, errors.Join(ck.errs...)
	}

	add := func(key, value string) {
		if value != "" && !omit[key] {
			c.static = append(c.static, field{key, value})
		}
	}
	add(hdrXCTO, "nosniff")
	add(hdrXFO, xfo)
	add(hdrReferrer, ref)
	add(hdrPermissions, perms.String())
	add(hdrCOOP, coop)
	add(hdrCORP, corp)
	add(hdrCOEP, coep)
	add(hdrOAC, oac)
	add(hdrDNSPrefetch, dns)
	add(hdrCrossDomain, xdp)
	add(hdrReporting, reporting)
	if cfg.DisableXSSAuditor {
		add(hdrXXSS, "0")
	}
	if !c.nonce {
		if c.csp.set() {
			add(hdrCSP, c.csp.parts[0])
		}
		if c.cspRO.set() {
			add(hdrCSPRO, c.cspRO.parts[0])
		}
	}
	return c, nil
}

// hstsValue checks h and renders Strict-Transport-Security.
func hstsValue(h HSTS, omitted bool, ck *checker) string {
	maxAge := h.MaxAge
	switch {
	case maxAge == 0:
		maxAge = oneYear
	case maxAge == ForgetHSTS:
		maxAge = 0
	case maxAge < 0:
		ck.bad("HSTS.MaxAge: must not be negative; ForgetHSTS sends max-age=0, which makes browsers forget HSTS (value %q)", h.MaxAge.String())
	case maxAge%time.Second != 0:
		ck.bad("HSTS.MaxAge: must be a whole number of seconds, at least one (value %q)", h.MaxAge.String())
	}
	if h.Preload {
		// chromium/hstspreload header.go: preload needs max-age ≥ 1 year
		// and includeSubDomains.
		if maxAge < oneYear {
			ck.bad("HSTS.Preload: needs MaxAge of at least one year (31536000 s) (value %q)", maxAge.String())
		}
		if h.ExcludeSubDomains {
			ck.bad("HSTS.Preload: needs includeSubDomains; unset ExcludeSubDomains (value %q)", "ExcludeSubDomains")
		}
		if omitted {
			ck.bad("HSTS.Preload: Strict-Transport-Security is in Omit (value %q)", hdrHSTS)
		}
	}
	v := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	if !h.ExcludeSubDomains {
		v += "; includeSubDomains"
	}
	if h.Preload {
		v += "; preload"
	}
	return v
}

// reportingEndpoints checks the endpoints and renders Reporting-Endpoints
// (a Structured Field dictionary of strings).
func reportingEndpoints(eps []Endpoint, ck *checker) (names map[string]bool, value string) {
	names = map[string]bool{}
	var members []string
	for _, e := range eps {
		if !isSFKey(e.Name) {
			ck.bad("ReportingEndpoints: name must be a lowercase structured-field key such as csp-endpoint (value %q)", e.Name)
		} else if names[e.Name] {
			ck.bad("ReportingEndpoints: duplicate name (value %q)", e.Name)
		}
		if !validEndpointURL(e.URL) {
			ck.bad("ReportingEndpoints: %s: URL must be https:// (or http://localhost) or an absolute path, without quotes, backslashes or control characters (value %q)", e.Name, e.URL)
		}
		names[e.Name] = true
		members = append(members, e.Name+`="`+e.URL+`"`)
	}
	return names, strings.Join(members, ", ")
}

// frameOptions returns X-Frame-Options consistent with the enforced policy's
// frame-ancestors (CSP3 §"Relation to X-Frame-Options").
func frameOptions(configured string, policy Policy, enforced bool, ck *checker) string {
	derived := "SAMEORIGIN"
	fa, hasFA := policy.Get(FrameAncestors)
	hasFA = hasFA && enforced
	if hasFA {
		switch {
		case len(fa) == 1 && strings.EqualFold(fa[0], None):
			derived = "DENY"
		case len(fa) == 1 && strings.EqualFold(fa[0], Self):
			derived = "SAMEORIGIN"
		default:
			derived = "" // a list of origins: X-Frame-Options cannot say it
		}
	}
	xfo := strings.ToUpper(configured)
	switch {
	case configured == "" && hasFA:
		// Browsers ignore X-Frame-Options when the enforced policy has
		// frame-ancestors (HTML, "check a navigation response's adherence
		// to X-Frame-Options"): the field would only cost every response.
		return ""
	case configured == "":
		return derived
	case xfo != "DENY" && xfo != "SAMEORIGIN":
		ck.bad("FrameOptions: want DENY or SAMEORIGIN (value %q)", configured)
	case hasFA && xfo != derived:
		ck.bad("FrameOptions: contradicts the CSP's frame-ancestors %s; leave FrameOptions empty to derive it (value %q)", strings.Join(fa, " "), configured)
	}
	return xfo
}

// referrerPolicy checks a Referrer-Policy token list.
func referrerPolicy(ref string, ck *checker) string {
	if ref == "" {
		return "same-origin"
	}
	seen := map[string]bool{}
	n := 0
	for e := range header.Elements([]string{ref}) {
		n++
		if !referrerPolicies[e] {
			ck.bad("ReferrerPolicy: unknown policy %q (value %q)", e, ref)
		} else if seen[e] {
			ck.bad("ReferrerPolicy: duplicate policy %q (value %q)", e, ref)
		}
		seen[e] = true
	}
	if n == 0 || !cleanList(ref) {
		ck.bad("ReferrerPolicy: want policy tokens separated by commas (value %q)", ref)
	}
	return ref
}

var referrerPolicies = map[string]bool{
	"no-referrer": true, "no-referrer-when-downgrade": true, "same-origin": true, "origin": true,
	"strict-origin": true, "origin-when-cross-origin": true, "strict-origin-when-cross-origin": true,
	"unsafe-url": true,
}

// cleanList reports whether s is visible ASCII and spaces (a header list).
func cleanList(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' || c >= 0x7f) && c != '\t' {
			return false
		}
	}
	return true
}

// compilePolicy renders p, splitting it at every RequestNonce source, which
// becomes 'nonce-<value>'. Only whole sources of the directives that may carry
// a nonce are split, never the same text inside another value (a report-uri).
func compilePolicy(p Policy) template {
	var parts []string
	var b strings.Builder
	for i, d := range p.dirs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Name)
		for _, v := range d.Values {
			b.WriteByte(' ')
			if v == RequestNonce && nonceDirectives[d.Name] {
				b.WriteString("'nonce-")
				parts = append(parts, b.String())
				b.Reset()
				b.WriteByte('\'')
				continue
			}
			b.WriteString(v)
		}
	}
	return template{parts: append(parts, b.String())}
}

func validEndpointURL(s string) bool {
	if !cleanValue(s) || strings.ContainsAny(s, `"\`) {
		return false
	}
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return true
		}
		a, err := netip.ParseAddr(h)
		return err == nil && a.IsLoopback()
	}
	return false
}
