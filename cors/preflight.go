package cors

import (
	"net/http"
	"slices"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/problem"
	"github.com/jiec/httpmw/internal/slots"
)

// reason says why a preflight failed; it indexes failureErrors,
// failureDetails and compiled.failures.
type reason int

const (
	failOrigin reason = iota
	failMethod
	failHeader
	numReasons
)

var failureErrors = [numReasons]error{ErrOriginNotAllowed, ErrMethodNotAllowed, ErrHeaderNotAllowed}

var failureDetails = [numReasons]string{
	"The Origin of this request is not allowed to make cross-origin requests to this resource.",
	"The method in Access-Control-Request-Method is not allowed for cross-origin requests.",
	"A header named in Access-Control-Request-Headers is not allowed for cross-origin requests.",
}

// maxOriginLen bounds the Origin values the middleware looks at: a scheme of
// 64 bytes, "://", a 253-byte host and ":65535" fit well below it.
const maxOriginLen = 512

// maxACRHLines bounds the Access-Control-Request-Headers field lines a
// preflight may have (browsers send one; gateways split it into a few).
const maxACRHLines = 16

// maxPreflightValues is how many header values a preflight answer takes:
// Vary, ACAO, ACAC, ACAPN, ACAM, ACMA, and the ACAH lines.
// A failed one takes Vary and the problem+json headers.
const maxPreflightValues = max(6+maxACRHLines, 1+problem.PreparedValues)

// pair is a response header to set; the value is a string of the config or
// the request, and gets a slot of its own when it goes into the response.
type pair struct {
	name, value string
}

// preflight handles a CORS-preflight request (Fetch §"CORS-preflight
// request": OPTIONS with Origin and Access-Control-Request-Method). It
// reports whether the request must go on to the next handler (passthrough).
//
// Every value it puts in the response header map is a fresh slice of length
// and capacity 1 from a slab (internal/slots): an outer layer or the
// ErrorHandler may edit it in place without changing another response, the
// config or the request's own headers, and the preflight allocates nothing
// (one slab per few dozen preflights).
func (c *compiled) preflight(w http.ResponseWriter, r *http.Request, origin, acrm []string) bool {
	sl := c.slabs.Get(maxPreflightValues)
	defer c.slabs.Put(sl)
	h := w.Header()
	// The result depends on these request headers, whatever it is.
	if _, ok := h[hVary]; ok || c.passthrough {
		header.AddVary(h, c.varyNames...)
	} else {
		h[hVary] = sl.Take(c.preflightVary)
	}

	var buf [6]pair
	pairs := buf[:0]

	// Origin (Fetch §"CORS check").
	switch {
	case len(origin) != 1:
		return c.fail(w, r, sl, failOrigin)
	case c.anyOrigin:
		pairs = append(pairs, pair{hACAO, "*"})
	case c.allowOrigin(origin[0]):
		pairs = append(pairs, pair{hACAO, origin[0]})
		if c.credentials {
			// Preflights never carry credentials, but the browser checks
			// this header on them all the same (Fetch §"CORS check").
			pairs = append(pairs, pair{hACAC, "true"})
		}
	default:
		return c.fail(w, r, sl, failOrigin)
	}

	// Private Network Access (WICG PNA §"CORS preflight"): granted only
	// when enabled; otherwise the preflight is answered as usual without
	// Access-Control-Allow-Private-Network and the browser decides (it
	// fails the request, or only warns where PNA is not enforced).
	if c.privateNetwork {
		if v := r.Header[hACRPN]; len(v) > 0 && v[0] == "true" {
			pairs = append(pairs, pair{hACAPN, "true"})
		}
	}

	// Method: byte-exact (Fetch normalizes the six common methods before
	// sending); safelisted methods need no Access-Control-Allow-Methods.
	if len(acrm) != 1 {
		return c.fail(w, r, sl, failMethod)
	}
	if m := acrm[0]; !isSafelistedMethod(m) {
		switch {
		case c.anyMethod && !c.credentials:
			pairs = append(pairs, pair{hACAM, "*"})
		case c.anyMethod && header.IsToken(m):
			// "*" is literal under credentials: name the method.
			pairs = append(pairs, pair{hACAM, m})
		default:
			i := slices.Index(c.methods, m)
			if i < 0 {
				return c.fail(w, r, sl, failMethod)
			}
			pairs = append(pairs, pair{hACAM, c.methods[i]})
		}
	}

	// Request headers.
	var acah []string
	if acrh := r.Header[hACRH]; len(acrh) > 0 {
		switch {
		case len(acrh) > maxACRHLines || !c.allowHeaders(acrh):
			return c.fail(w, r, sl, failHeader)
		case c.anyHeader && !c.credentials:
			pairs = append(pairs, pair{hACAH, c.acahWildcard})
		default:
			// Every name is listed, or "*" under credentials (where "*"
			// is literal): echo the checked names.
			acah = acrh
		}
	}

	if c.acma != "" {
		pairs = append(pairs, pair{hACMA, c.acma})
	}
	for _, p := range pairs {
		h[p.name] = sl.Take(p.value)
	}
	if acah != nil {
		h[hACAH] = sl.TakeAll(acah)
	}
	if c.passthrough {
		return true
	}
	w.WriteHeader(c.status)
	return false
}

// allowHeaders reports whether every name in the Access-Control-Request-Headers
// lines is allowed (see allowName). It is tolerant (any case, OWS, several
// lines, a few empty elements) but bounded: at most header.MaxLen bytes,
// maxEmptyElems empty elements and c.maxElems names, each checked in O(len)
// without allocating.
func (c *compiled) allowHeaders(lines []string) bool {
	if header.TotalLen(lines) > header.MaxLen {
		return false
	}
	names, empty := 0, 0
	for _, v := range lines {
		for v != "" {
			var e string
			e, v = header.NextElement(v)
			if e == "" {
				if empty++; empty > maxEmptyElems {
					return false
				}
				continue
			}
			if names++; names > c.maxElems || !c.allowName(e) {
				return false
			}
		}
	}
	return true
}

// allowName reports whether a preflight may ask for the header name: one of
// RequestHeaders, or with "*" any valid name except, for anonymous requests,
// Authorization (a "CORS non-wildcard request-header name" in Fetch,
// whatwg/fetch#251: "*" never covers it, the browser fails such a preflight
// whatever we answer, so it fails here visibly).
func (c *compiled) allowName(name string) bool {
	if c.anyHeader && header.IsToken(name) &&
		(c.credentials || !(len(name) == len("authorization") && equalFoldASCII("authorization", name))) {
		return true
	}
	return c.allowedName(name)
}

// foldBuf is the longest name allowedName lower-cases on the stack.
const foldBuf = 64

// allowedName reports whether name, compared case-insensitively, is one of
// the configured request headers.
func (c *compiled) allowedName(name string) bool {
	if len(name) > c.maxNameLen {
		return false
	}
	upper := false
	for i := 0; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			upper = true
			break
		}
	}
	if !upper {
		_, ok := c.headers[name]
		return ok
	}
	if len(name) <= foldBuf {
		var b [foldBuf]byte
		for i := 0; i < len(name); i++ {
			ch := name[i]
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b[i] = ch
		}
		_, ok := c.headers[string(b[:len(name)])] // no allocation for a map index
		return ok
	}
	for n := range c.headers { // only for configured names over foldBuf bytes
		if len(n) == len(name) && equalFoldASCII(n, name) {
			return true
		}
	}
	return false
}

func equalFoldASCII(lower, s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// allowOrigin reports whether the serialized origin o is allowed: a
// byte-exact match (browsers send lowercase ASCII) or a subdomain pattern.
func (c *compiled) allowOrigin(o string) bool {
	if len(o) > maxOriginLen {
		return false
	}
	if c.exactList != nil {
		if slices.Contains(c.exactList, o) {
			return true
		}
	} else if _, ok := c.exact[o]; ok {
		return true
	}
	for _, p := range c.patterns {
		if p.match(o) {
			return true
		}
	}
	return false
}

// fail ends a failed preflight: without any CORS header, so the browser
// fails it, and with a 403 so that logs show it. It reports whether the
// request goes on to the next handler (passthrough).
func (c *compiled) fail(w http.ResponseWriter, r *http.Request, sl *slots.Slab, why reason) bool {
	if c.passthrough {
		return true
	}
	if c.errorHandler != nil {
		c.errorHandler(w, r, failureErrors[why])
		return false
	}
	// Precomputed problem+json: failing preflights cost no allocation.
	c.failures[why].WriteFrom(w, r, sl)
	return false
}
