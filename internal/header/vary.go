package header

import (
	"net/http"
	"strings"

	"github.com/jiec/httpmw/internal/slots"
)

// AddVary appends the field names to the Vary header of h, case-insensitively
// without duplicates (RFC 9110 §12.5.5). A name may itself be a comma list
// ("Accept, Origin"). It adds nothing when Vary already holds "*"; adding "*"
// replaces the list. Existing lines are kept as they are, and their backing
// array is never written to (it may be shared with another header map).
func AddVary(h http.Header, names ...string) {
	for _, s := range names {
		if isName(s) { // the common case: no list to split
			if !addVaryName(h, s) {
				return
			}
			continue
		}
		for n := range Elements([]string{s}) {
			if !addVaryName(h, n) {
				return
			}
		}
	}
}

// isName reports whether s is one non-empty list element as it stands: no
// comma, no quote, no white space around it.
func isName(s string) bool {
	return s != "" && !IsOWS(s[0]) && !IsOWS(s[len(s)-1]) &&
		strings.IndexByte(s, ',') < 0 && strings.IndexByte(s, '"') < 0
}

// addVaryName adds the element n to Vary (see AddVary). It reports false
// when Vary holds "*" afterwards: nothing more can be added.
func addVaryName(h http.Header, n string) bool {
	cur := h["Vary"]
	has, star := scanVary(cur, n)
	switch {
	case has:
		return true
	case star:
		return false
	case n == "*":
		h["Vary"] = []string{"*"}
		return false
	}
	h["Vary"] = appendVary(cur, n)
	return true
}

// varySlabs back the Vary values AddVary builds (see internal/slots): each
// response gets lines of its own without an allocation per merge.
var varySlabs slots.Pool

// maxSlabVary is the longest Vary (in lines) whose copy comes from a slab;
// a longer one is copied into a fresh array.
const maxSlabVary = 16

// appendVary returns cur with n appended, in a new backing array: cur's may
// be shared with another header map.
func appendVary(cur []string, n string) []string {
	if len(cur) >= maxSlabVary {
		return append(cur[:len(cur):len(cur)], n)
	}
	sl := varySlabs.Get(len(cur) + 1)
	v := sl.TakeAppend(cur, n)
	varySlabs.Put(sl)
	return v
}

// scanVary reports, in one pass over the Vary lines, whether they list name
// (case-insensitively) and whether they list "*".
func scanVary(values []string, name string) (has, star bool) {
	for _, v := range values {
		if v == name { // a line the httpmw packages added
			return true, star
		}
		for v != "" {
			var e string
			e, v = NextElement(v)
			switch {
			case e == "*":
				star = true
			case len(e) == len(name) && strings.EqualFold(e, name):
				return true, star
			}
		}
	}
	return false, star
}

// maxVaryTokens is how many distinct Vary tokens NormalizeVary checks for
// duplicates without allocating; a longer list is rebuilt.
const maxVaryTokens = 32

// NormalizeVary rewrites the Vary field of h so that each field name appears
// once (case-insensitively; the first spelling wins) and "*" stands alone
// (RFC 9110 §12.5.5: "*" signals that anything may vary, so a list next to it
// says nothing more). Lines that are already so are left untouched and
// nothing is allocated; otherwise the field becomes one fresh line.
// Non-canonical keys ("vary") are not looked at: FoldKeys merges them first.
func NormalizeVary(h http.Header) {
	v := h["Vary"]
	if len(v) == 0 {
		return
	}
	var seen [maxVaryTokens]string
	n, star, dup, many := 0, false, false, false
	for e := range Elements(v) {
		if e == "*" {
			star = true
			break
		}
		if n == maxVaryTokens {
			many = true
			continue
		}
		if containsFoldStrings(seen[:n], e) {
			dup = true
			continue
		}
		seen[n] = e
		n++
	}
	switch {
	case star:
		if len(v) != 1 || v[0] != "*" {
			h["Vary"] = []string{"*"}
		}
	case dup || many:
		var uniq []string
		tokens := true
		for e := range Elements(v) {
			if !containsFoldStrings(uniq, e) {
				uniq = append(uniq, e)
				tokens = tokens && IsToken(e)
			}
		}
		if !tokens {
			// A malformed member (a stray quote, say) would change how
			// the members after it split if the lines were joined: keep
			// one member per line.
			h["Vary"] = uniq
			return
		}
		h["Vary"] = []string{strings.Join(uniq, ", ")}
	}
}

func containsFoldStrings(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

// folded are the fields whose non-canonical spellings FoldKeys merges into
// the canonical key (those the httpmw packages read or edit), by length.
var folded = [...][]string{
	4:  {"Vary", "Etag"},
	7:  {"Trailer"},
	12: {"Content-Type"},
	13: {"Last-Modified", "Cache-Control", "Content-Range", "Accept-Ranges"},
	14: {"Content-Length"},
	16: {"Content-Encoding"},
}

// FoldKeys moves the values of fields the httpmw packages interpret that a
// handler set under a non-canonical key (h["ETag"], h["vary"]: net/http
// sends such keys as they are, next to the canonical ones) to the canonical
// key. Vary and Trailer lines are appended to the canonical ones (each line
// adds to the list, and a declaration dropped would lose its trailer); for
// every other field the non-canonical value replaces the canonical one, since
// only handler code writes such keys and it writes them last. Other keys are left alone (their
// spelling may be deliberate, "X-XSS-Protection"). It allocates only when it
// moves Vary or Trailer lines.
func FoldKeys(h http.Header) { FoldKeysTrailers(h) }

// foldedKey returns the canonical key k is a non-canonical spelling of, if
// it is one of folded, else "".
func foldedKey(k string) string {
	if len(k) >= len(folded) {
		return ""
	}
	for _, c := range folded[len(k)] {
		if c != k && strings.EqualFold(c, k) {
			return c
		}
	}
	return ""
}
