package header

import (
	"hash/maphash"
	"math/bits"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/jiec/httpmw/internal/slots"
)

// AddVary adds the field names to the Vary header of h, case-insensitively
// without duplicates (RFC 9110 §12.5.5). A name may itself be a comma list
// ("Accept, Origin"). It adds nothing when Vary already holds "*"; adding "*"
// replaces the list.
//
// The field stays one line: when every line of Vary is a plain list of
// tokens, a name added makes the field the one line "a, b, c" (RFC 9110
// §5.3: the lines of a list field combine with ", "), so that net/http
// writes, and HPACK encodes, one field instead of one per layer. A line
// with a malformed member (a quote, a non-token) is never joined with
// others, since joining could change how the members after it split: the
// name then goes on a line of its own, as does a name that is not a token.
// The backing arrays of the existing lines are never written to (they may
// be shared with another header map); the joined strings come from a
// bounded table (joins), the one-value slices from a slab (varySlabs), so
// that the few combinations a chain produces cost no allocation.
func AddVary(h http.Header, names ...string) {
	v := varyField{lines: h["Vary"]}
	v.addNames(names)
	v.store(h)
}

// AddVaryLists is AddVary of the names of every list in one pass: the
// field is read and stored once (what a Writer merges at the commit).
func AddVaryLists(h http.Header, lists [][]string) {
	v := varyField{lines: h["Vary"]}
	for _, names := range lists {
		if !v.addNames(names) {
			break
		}
	}
	v.store(h)
}

// varyField is the Vary field while AddVary adds to it: lines as they
// were, or the one line joined (line), or lines of a fresh array of ours.
type varyField struct {
	lines   []string
	line    string // the field when joined
	joined  bool   // the field is line (lines is stale)
	star    bool   // the field is "*"
	changed bool
}

// addNames adds names (see AddVary); false when the field is "*" now.
func (v *varyField) addNames(names []string) bool {
	for _, s := range names {
		if isName(s) { // the common case: no list to split
			if !v.add(s) {
				return false
			}
			continue
		}
		for n := range Elements([]string{s}) {
			if !v.add(n) {
				return false
			}
		}
	}
	return true
}

// store puts the field back into h if it changed.
func (v *varyField) store(h http.Header) {
	switch {
	case !v.changed:
	case v.star:
		h["Vary"] = []string{"*"}
	case v.joined:
		h["Vary"] = takeVary(v.line)
	default:
		h["Vary"] = v.lines
	}
}

// isName reports whether s is one non-empty list element as it stands: no
// comma, no quote, no white space around it.
func isName(s string) bool {
	return s != "" && !IsOWS(s[0]) && !IsOWS(s[len(s)-1]) &&
		strings.IndexByte(s, ',') < 0 && strings.IndexByte(s, '"') < 0
}

// add adds the element n (see AddVary). It reports false when the field
// is "*" afterwards: nothing more can be added.
func (v *varyField) add(n string) bool {
	var has, star, plain bool
	if v.joined {
		has, star, plain = scanLine(v.line, n)
	} else {
		has, star, plain = scanVary(v.lines, n)
	}
	switch {
	case has:
		return true
	case star:
		return false
	case n == "*":
		v.star, v.changed = true, true
		return false
	}
	v.changed = true
	switch {
	case !plain || !IsToken(n):
		// A line of its own: joining could change how members split.
		if v.joined {
			v.lines, v.joined = takeVary2(v.line, n), false
		} else {
			v.lines = appendVary(v.lines, n)
		}
	case v.joined:
		v.line = joins.join(v.line, n)
	default:
		if l := joinLines(v.lines); l != "" {
			v.line = joins.join(l, n)
		} else {
			v.line = n
		}
		v.joined = true
	}
	return true
}

// joinLines returns the lines (plain token lists) as one list, empty lines
// left out ("" when all are).
func joinLines(lines []string) string {
	acc := ""
	for _, l := range lines {
		if l = TrimOWS(l); l == "" {
			continue
		}
		if acc == "" {
			acc = l
		} else {
			acc = joins.join(acc, l)
		}
	}
	return acc
}

// varySlabs back the Vary values AddVary builds (see internal/slots): each
// response gets lines of its own without an allocation per merge.
var varySlabs slots.Pool

// takeVary returns v as a one-line value from a slab.
func takeVary(v string) []string {
	sl := varySlabs.Get(1)
	vs := sl.Take(v)
	varySlabs.Put(sl)
	return vs
}

// takeVary2 returns the lines a and b as a value from a slab.
func takeVary2(a, b string) []string {
	two := [2]string{a, b}
	sl := varySlabs.Get(2)
	vs := sl.TakeAll(two[:])
	varySlabs.Put(sl)
	return vs
}

// maxSlabVary is the longest Vary (in lines) whose copy comes from a slab;
// a longer one is copied into a fresh array.
const maxSlabVary = 16

// appendVary returns cur with n appended as a line of its own, in a new
// backing array: cur's may be shared with another header map.
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
// (case-insensitively), whether they list "*", and whether every line is a
// plain list of tokens (empty elements allowed), which AddVary may join.
func scanVary(values []string, name string) (has, star, plain bool) {
	plain = true
	for _, v := range values {
		if v == name { // a line the httpmw packages added
			return true, star, plain
		}
		h, s, p := scanLine(v, name)
		if h {
			return true, star || s, plain && p
		}
		star, plain = star || s, plain && p
	}
	return false, star, plain
}

// scanLine is scanVary of one line.
func scanLine(v, name string) (has, star, plain bool) {
	plain = true
	for v != "" {
		var e string
		e, v = NextElement(v)
		switch {
		case e == "*":
			star = true
		case len(e) == len(name) && strings.EqualFold(e, name):
			return true, star, plain
		case e != "" && !IsToken(e):
			plain = false
		}
	}
	return false, star, plain
}

// joinTable interns the lines AddVary joins: a chain's layers add the same
// few names to the same few lines on every response, so the joined string
// is made once and shared (strings are immutable; the []string holding it
// is per response). It is a fixed array of joinSlots entries in sets of
// two, indexed by a hash of the pair, so it never grows: a pair that finds
// neither entry of its set holding it concatenates (one allocation) and
// replaces one of them (the one a hash bit picks), so that two pairs
// of one set both stay, and a handler that makes up new Vary values per
// request only costs itself allocations. Joined lines longer than
// maxJoinLen are not interned. Safe for concurrent use: each entry is an
// atomic pointer to an immutable string, checked against the pair on a hit.
type joinTable struct {
	seed  maphash.Seed
	slots [joinSlots]atomic.Pointer[string]
}

const (
	// joinSlots is the number of entries of joins (a power of two).
	joinSlots = 256
	// maxJoinLen is the longest joined line joins keeps.
	maxJoinLen = 256
)

var joins = joinTable{seed: maphash.MakeSeed()}

// join returns a + ", " + b, from the table when it holds it.
func (t *joinTable) join(a, b string) string {
	n := len(a) + len(", ") + len(b)
	if n > maxJoinLen {
		return a + ", " + b
	}
	hash := maphash.String(t.seed, a) ^ bits.RotateLeft64(maphash.String(t.seed, b), 29)
	i := int(hash>>1) & (joinSlots - 2) // the set: entries i, i+1
	for k := i; k < i+2; k++ {
		if p := t.slots[k].Load(); p != nil && joined(*p, a, b) {
			return *p
		}
	}
	s := a + ", " + b
	t.slots[i+int(hash&1)].Store(&s)
	return s
}

// joined reports whether s is a + ", " + b. The separator is compared
// too: "0ab1, y" (a "0ab1" and b "y") is not "0" joined to "1, y".
func joined(s, a, b string) bool {
	return len(s) == len(a)+2+len(b) && s[:len(a)] == a && s[len(a):len(a)+2] == ", " && s[len(a)+2:] == b
}

// maxVaryTokens is how many distinct Vary tokens NormalizeVary checks for
// duplicates without allocating; a longer list is rebuilt.
const maxVaryTokens = 32

// NormalizeVary rewrites the Vary field of h so that each field name appears
// once (case-insensitively; the first spelling wins) and "*" stands alone
// (RFC 9110 §12.5.5: "*" signals that anything may vary, so a list next to it
// says nothing more). Lines that are already so are left untouched and
// nothing is allocated, except that several lines of plain tokens become
// the one line AddVary would make of them (from its join table and slab);
// otherwise the field becomes one fresh line. A line with a malformed member
// is never joined with another (see AddVary).
// Non-canonical keys ("vary") are not looked at: FoldKeys merges them first.
func NormalizeVary(h http.Header) {
	v := h["Vary"]
	if len(v) == 0 {
		return
	}
	var seen [maxVaryTokens]string
	n, star, dup, many, tokens := 0, false, false, false, true
	for e := range Elements(v) {
		if e == "*" {
			star = true
			break
		}
		tokens = tokens && IsToken(e)
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
		for e := range Elements(v) {
			if !containsFoldStrings(uniq, e) {
				uniq = append(uniq, e)
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
	case len(v) > 1 && tokens:
		// Several clean lines of tokens (a handler's Add, a non-canonical
		// key folded): one line, as AddVary makes them.
		h["Vary"] = takeVary(joinLines(v))
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
func FoldKeys(h http.Header) {
	for k, v := range h {
		c := foldedKey(k)
		if c == "" {
			continue
		}
		delete(h, k)
		if c == "Vary" || c == "Trailer" {
			cur := h[c]
			h[c] = append(cur[:len(cur):len(cur)], v...)
			continue
		}
		h[c] = v
	}
}

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
