package compress

import (
	"maps"
	"net/http"
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

// Entity tags of encoded responses.
//
// An encoded body is a different representation from the identity body
// (RFC 9110 §8.8.3: a strong validator names one exact byte sequence), so a
// strong ETag "v1" of the handler goes out as "v1-gzip" (or -br, -zstd,
// -deflate) when the middleware encodes the response: still strong, so a
// client can send it back in If-Match (strong comparison, §13.1.1), and
// different per coding. On the way in, the suffix is removed again from
// If-Match and If-None-Match, so that the handler and inner middlewares
// (cache) compare against their own tags. Weak tags are left alone.

// suffixedETag returns the strong tag t with the suffix of cd appended
// (`"v1"` → `"v1-gzip"`).
func suffixedETag(t header.ETag, cd coding) string {
	o := t.Opaque
	return o[:len(o)-1] + "-" + codingNames[cd] + `"`
}

// suffixETag gives a strong ETag in h the suffix of cd.
func suffixETag(h http.Header, cd coding) {
	if v := h["Etag"]; len(v) > 0 {
		if t, ok := header.ParseETag(v[0]); ok && !t.Weak {
			h["Etag"] = []string{suffixedETag(t, cd)}
		}
	}
}

// suffixNotModifiedETag sets the ETag of a 304 to the validator of the
// response the client (or a cache) holds and asked about, so that it updates
// that response (RFC 9111 §4.3.4): the tag suffixed with the negotiated
// coding, unless the request's If-None-Match (inm, as the client sent it)
// named the handler's tag unsuffixed and not the suffixed one, which means
// the client holds an identity response (a body below MinSize, say).
func suffixNotModifiedETag(h http.Header, cd coding, inm []string) {
	v := h["Etag"]
	if len(v) == 0 {
		return
	}
	t, ok := header.ParseETag(v[0])
	if !ok || t.Weak {
		return
	}
	plain, suffixed := false, false
	if header.TotalLen(inm) <= header.MaxLen {
		for e := range header.ETags(inm) {
			switch c, ok := parseSuffixed(e); {
			case e == t.Opaque:
				plain = true
			case ok && c == cd && e[:len(e)-len(codingNames[c])-2] == t.Opaque[:len(t.Opaque)-1]:
				suffixed = true
			}
		}
	}
	if plain && !suffixed {
		return
	}
	h["Etag"] = []string{suffixedETag(t, cd)}
}

// parseSuffixed reports whether the list element e is an entity tag whose
// opaque part ends in "-" and the name of a coding, and which coding
// (header.CutCodingSuffix, shared with cache). Weak tags count too: a CDN
// may weaken the suffixed tag it received (W/"v1-gzip"), and it names the
// same state for the weak comparison of If-None-Match.
func parseSuffixed(e string) (coding, bool) {
	t, ok := header.ParseETag(e)
	if !ok {
		return codingIdentity, false
	}
	if _, n := header.CutCodingSuffix(t.Opaque[1 : len(t.Opaque)-1]); n != "" {
		return codingByName(n)
	}
	return codingIdentity, false
}

// conditionalFields are the request fields whose entity tags lose their
// coding suffix. If-Range is not one of them: it asks for a range of the
// very bytes the client holds (RFC 9110 §13.1.5), and a range of the
// identity body (compress never encodes a 206) would not continue a
// partial encoded one; left suffixed, it fails and the full response is
// sent, as it must be.
var conditionalFields = [...]string{"If-Match", "If-None-Match"}

// unsuffixRequest returns r, or a shallow copy of r with its own header map
// in which the tags (strong or weak) of If-Match and If-None-Match carrying
// a coding suffix lose it (field lines are kept; elements of a line rejoined with
// ", "). It allocates only when there is something to rewrite, and then
// little: one block for the request copy and the new fields' values, the
// header map's copy, and one string per rewritten line. The caller's header
// map and its value slices are never modified.
//
// inm is r's If-None-Match, which the caller has looked up already.
func unsuffixRequest(r *http.Request, inm []string) *http.Request {
	h := r.Header
	if inm == nil && h["If-Match"] == nil {
		return r
	}
	var rewrite [len(conditionalFields)]bool
	some := false
	for i, k := range conditionalFields {
		rewrite[i] = hasSuffixedTag(h[k])
		some = some || rewrite[i]
	}
	if !some {
		return r
	}
	x := new(unsuffixed)
	x.req = *r // what r.WithContext(r.Context()) makes
	nh := maps.Clone(h)
	for i, k := range conditionalFields {
		if rewrite[i] {
			nh[k] = unsuffixLines(x.vals[i:i:i+1], h[k])
		}
	}
	x.req.Header = nh
	return &x.req
}

// unsuffixed holds a rewritten request and, for fields of one line, their
// new values.
type unsuffixed struct {
	req  http.Request
	vals [len(conditionalFields)]string
}

// hasSuffixedTag reports whether an entity-tag list field has an element
// with a coding suffix (false when it is too long to be read, which an inner
// middleware treats as malformed).
func hasSuffixedTag(values []string) bool {
	if len(values) == 0 || header.TotalLen(values) > header.MaxLen {
		return false
	}
	for e := range header.ETags(values) {
		if _, ok := parseSuffixed(e); ok {
			return true
		}
	}
	return false
}

// unsuffixLines appends to out the lines of an entity-tag list field without
// coding suffixes, line by line (an unterminated tag ends its line, so lines
// are not joined).
func unsuffixLines(out, values []string) []string {
	var b strings.Builder
	for i, v := range values {
		b = strings.Builder{}
		for e := range header.ETags(values[i : i+1]) {
			if b.Len() == 0 {
				b.Grow(len(v)) // suffixes go, ", " may come: usually one allocation
			} else {
				b.WriteString(", ")
			}
			if c, ok := parseSuffixed(e); ok {
				b.WriteString(e[:len(e)-len(codingNames[c])-2])
				b.WriteByte('"')
				continue
			}
			b.WriteString(e)
		}
		if b.Len() == 0 {
			out = append(out, v) // no element: keep the line as it is
			continue
		}
		out = append(out, b.String())
	}
	return out
}
