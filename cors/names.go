package cors

import "strings"

// Canonical header names (http.CanonicalHeaderKey form, so they index an
// http.Header directly).
const (
	hOrigin = "Origin"
	hVary   = "Vary"
	hACRM   = "Access-Control-Request-Method"
	hACRH   = "Access-Control-Request-Headers"
	hACRPN  = "Access-Control-Request-Private-Network"
	hACAO   = "Access-Control-Allow-Origin"
	hACAC   = "Access-Control-Allow-Credentials"
	hACAM   = "Access-Control-Allow-Methods"
	hACAH   = "Access-Control-Allow-Headers"
	hACMA   = "Access-Control-Max-Age"
	hACEH   = "Access-Control-Expose-Headers"
	hACAPN  = "Access-Control-Allow-Private-Network"
)

// isForbiddenMethod reports whether m is a forbidden method (Fetch
// §"forbidden method"): browsers never send CONNECT, TRACE or TRACK, so
// allowing them is dead (and alarming) configuration.
func isForbiddenMethod(m string) bool {
	return strings.EqualFold(m, "CONNECT") || strings.EqualFold(m, "TRACE") || strings.EqualFold(m, "TRACK")
}

// normalizeMethod upper-cases the six methods Fetch normalizes (§"normalize"
// a method); other methods are case-sensitive ("patch" stays "patch").
func normalizeMethod(m string) string {
	for _, n := range [...]string{"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"} {
		if strings.EqualFold(m, n) {
			return n
		}
	}
	return m
}

// registeredMethods are the methods of the IANA HTTP Method Registry that
// Fetch does not normalize (and does not forbid).
var registeredMethods = [...]string{
	"ACL", "BASELINE-CONTROL", "BIND", "CHECKIN", "CHECKOUT", "COPY", "LABEL", "LINK", "LOCK",
	"MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MKREDIRECTREF", "MKWORKSPACE", "MOVE",
	"ORDERPATCH", "PATCH", "PRI", "PROPFIND", "PROPPATCH", "QUERY", "REBIND", "REPORT", "SEARCH",
	"UNBIND", "UNCHECKOUT", "UNLINK", "UNLOCK", "UPDATE", "UPDATEREDIRECTREF", "VERSION-CONTROL",
}

// registeredVariant returns the registered method m is a case variant of
// ("patch" → "PATCH"), or "" when m is not one (or is the method itself).
// Such methods are case-sensitive, so a variant is almost always a typo;
// New rejects it rather than guess which spelling the client sends.
func registeredVariant(m string) string {
	for _, r := range registeredMethods {
		if m != r && strings.EqualFold(m, r) {
			return r
		}
	}
	return ""
}

// isSafelistedMethod reports whether m is a CORS-safelisted method: it never
// needs a preflight nor Access-Control-Allow-Methods.
func isSafelistedMethod(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// forbiddenRequestHeaders are the Fetch "forbidden request-header" names
// (lowercase) that browsers never let scripts set, plus the CORS request
// and response header names themselves.
var forbiddenRequestHeaders = map[string]bool{
	"accept-charset":                         true,
	"accept-encoding":                        true,
	"access-control-request-headers":         true,
	"access-control-request-method":          true,
	"access-control-request-private-network": true,
	"connection":                             true,
	"content-length":                         true,
	"cookie":                                 true,
	"cookie2":                                true,
	"date":                                   true,
	"dnt":                                    true,
	"expect":                                 true,
	"host":                                   true,
	"keep-alive":                             true,
	"origin":                                 true,
	"referer":                                true,
	"set-cookie":                             true,
	"te":                                     true,
	"trailer":                                true,
	"transfer-encoding":                      true,
	"upgrade":                                true,
	"via":                                    true,
	"access-control-allow-origin":            true,
	"access-control-allow-credentials":       true,
	"access-control-allow-methods":           true,
	"access-control-allow-headers":           true,
	"access-control-max-age":                 true,
	"access-control-expose-headers":          true,
	"access-control-allow-private-network":   true,
}

func isForbiddenRequestHeader(lower string) bool {
	return forbiddenRequestHeaders[lower] ||
		strings.HasPrefix(lower, "proxy-") || strings.HasPrefix(lower, "sec-")
}

// isForbiddenResponseHeader reports the names browsers never expose to
// scripts (Fetch §"forbidden response-header name").
func isForbiddenResponseHeader(lower string) bool {
	return lower == "set-cookie" || lower == "set-cookie2"
}

// isSafelistedResponseHeader reports the CORS-safelisted response-header
// names, which scripts always see; listing them in Expose-Headers is a no-op.
func isSafelistedResponseHeader(lower string) bool {
	switch lower {
	case "cache-control", "content-language", "content-length", "content-type",
		"expires", "last-modified", "pragma":
		return true
	}
	return false
}
