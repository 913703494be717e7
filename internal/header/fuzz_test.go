package header_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/jiec/httpmw/internal/header"
)

// within reports whether sub is a slice of s (shares its memory), which is
// stronger than strings.Contains: the parsers return views, never copies.
func within(sub, s string) bool {
	if sub == "" {
		return true
	}
	if len(s) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(sub)))
	return p >= start && p+uintptr(len(sub)) <= start+uintptr(len(s))
}

func hasOWSEdge(s string) bool {
	return s != "" && (header.IsOWS(s[0]) || header.IsOWS(s[len(s)-1]))
}

// nextElementLoop is NextElement as one quote-aware loop over the bytes, the
// reference for its fast paths (which skip the loop when no quote comes
// before the first comma).
func nextElementLoop(s string) (elem, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return header.TrimOWS(s[:i]), s[i+1:]
		}
	}
	return header.TrimOWS(s), ""
}

func FuzzElements(f *testing.F) {
	for _, tt := range nextElementTests {
		f.Add(tt.in, "b, c")
	}
	f.Add(`a="x,y", b`, `"q\"", ,`)
	f.Fuzz(func(t *testing.T, a, b string) {
		// NextElement: progress, views of the input, OWS trimmed, the
		// split happens at a comma.
		for s := a; s != ""; {
			elem, rest := header.NextElement(s)
			if e, r := nextElementLoop(s); e != elem || r != rest {
				t.Fatalf("NextElement(%q) = %q, %q; the byte loop gives %q, %q", s, elem, rest, e, r)
			}
			if !within(elem, s) || !strings.HasSuffix(s, rest) || len(rest) >= len(s) {
				t.Fatalf("NextElement(%q) = %q, %q", s, elem, rest)
			}
			if hasOWSEdge(elem) {
				t.Fatalf("NextElement(%q) element %q keeps OWS", s, elem)
			}
			if rest != "" && s[len(s)-len(rest)-1] != ',' {
				t.Fatalf("NextElement(%q) split at %q, not at a comma", s, s[len(s)-len(rest)-1])
			}
			s = rest
		}
		// Several field lines are one list.
		ea := slices.Collect(header.Elements([]string{a}))
		eb := slices.Collect(header.Elements([]string{b}))
		both := slices.Collect(header.Elements([]string{a, b}))
		if !slices.Equal(both, append(slices.Clone(ea), eb...)) {
			t.Fatalf("Elements(%q, %q) = %q, want %q + %q", a, b, both, ea, eb)
		}
		// Without quotes, the list is a plain comma split.
		if !strings.Contains(a, `"`) {
			var want []string
			for _, p := range strings.Split(a, ",") {
				if p = header.TrimOWS(p); p != "" {
					want = append(want, p)
				}
			}
			if !slices.Equal(ea, want) {
				t.Fatalf("Elements(%q) = %q, want %q", a, ea, want)
			}
		}
		for _, e := range ea {
			if e == "" || !strings.Contains(a, e) {
				t.Fatalf("Elements(%q) yields %q", a, e)
			}
			// HasToken agrees with Elements + CutParams.
			name, _ := header.CutParams(e)
			if header.IsToken(name) {
				name = strings.ToUpper(name) // tokens are ASCII: compared case-insensitively
			}
			if name != "" && !header.HasToken([]string{a}, name) {
				t.Fatalf("HasToken(%q, %q) = false", a, name)
			}
		}
	})
}

func FuzzNextParam(f *testing.F) {
	for _, tt := range nextParamTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, value, rest, ok := header.NextParam(s)
		if !ok {
			if name != "" || value != "" || rest != "" {
				t.Fatalf("NextParam(%q) failed but returned %q, %q, %q", s, name, value, rest)
			}
			return
		}
		if !header.IsToken(name) || !within(name, s) || !within(value, s) || !within(rest, s) || len(rest) >= len(s) {
			t.Fatalf("NextParam(%q) = %q, %q, %q", s, name, value, rest)
		}
		if rest != "" && (rest[0] == ';' || header.IsOWS(rest[0])) {
			t.Fatalf("NextParam(%q) rest %q starts with a separator", s, rest)
		}
		quoted := value[0] == '"'
		if !quoted && !header.IsToken(value) || quoted && (len(value) < 2 || value[len(value)-1] != '"') {
			t.Fatalf("NextParam(%q) value %q is neither token nor quoted-string", s, value)
		}
		// Round trip: the canonical form parses to the same parameter.
		canon := name + "=" + value
		n2, v2, r2, ok2 := header.NextParam(canon)
		if !ok2 || n2 != name || v2 != value || r2 != "" {
			t.Fatalf("NextParam(%q) = %q, %q, %q, %v; from %q", canon, n2, v2, r2, ok2, s)
		}
		// A parameter string of several parameters parses to them in order.
		n3, v3, r3, ok3 := header.NextParam(canon + " ;; " + canon)
		if !ok3 || n3 != name || v3 != value || r3 != canon {
			t.Fatalf("NextParam(%q) = %q, %q, %q, %v", canon+" ;; "+canon, n3, v3, r3, ok3)
		}
	})
}

// quote is the inverse of Unquote.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func FuzzUnquote(f *testing.F) {
	for _, tt := range unquoteTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := header.Unquote(quote(s)); got != s {
			t.Fatalf("Unquote(%s) = %q, want %q", quote(s), got, s)
		}
		u := header.Unquote(s)
		if len(u) > len(s) {
			t.Fatalf("Unquote(%q) = %q grew", s, u)
		}
		if !strings.Contains(s, `\`) && !within(u, s) {
			t.Fatalf("Unquote(%q) = %q copied without escapes", s, u)
		}
	})
}

// qGrammar is RFC 9110 §12.4.2 qvalue.
var qGrammar = regexp.MustCompile(`^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$`)

func FuzzParseQ(f *testing.F) {
	for _, tt := range parseQTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, ok := header.ParseQ(s)
		if ok != qGrammar.MatchString(s) {
			t.Fatalf("ParseQ(%q) ok = %v, grammar says %v", s, ok, !ok)
		}
		if !ok {
			if q != 0 {
				t.Fatalf("ParseQ(%q) = %d with !ok", s, q)
			}
			return
		}
		// Consistency with strconv: the same value in thousandths.
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "."), 64)
		if err != nil || q < 0 || q > header.QMax || q != int(v*1000+0.5) {
			t.Fatalf("ParseQ(%q) = %d, strconv says %v (%v)", s, q, v, err)
		}
		// Round trip through the canonical three-decimal form.
		canon := strconv.FormatFloat(float64(q)/1000, 'f', 3, 64)
		if q2, ok2 := header.ParseQ(canon); !ok2 || q2 != q {
			t.Fatalf("ParseQ(%q) = %d, %v; want %d", canon, q2, ok2, q)
		}
	})
}

func FuzzParseWeighted(f *testing.F) {
	for _, tt := range parseWeightedTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		value, q, ok := header.ParseWeighted(s)
		if !ok {
			if value != "" || q != 0 {
				t.Fatalf("ParseWeighted(%q) failed but returned %q, %d", s, value, q)
			}
			return
		}
		if !header.IsToken(value) || !within(value, s) || q < 0 || q > header.QMax {
			t.Fatalf("ParseWeighted(%q) = %q, %d", s, value, q)
		}
		canon := value + ";q=" + strconv.FormatFloat(float64(q)/1000, 'f', 3, 64)
		if v2, q2, ok2 := header.ParseWeighted(canon); !ok2 || v2 != value || q2 != q {
			t.Fatalf("ParseWeighted(%q) = %q, %d, %v; want %q, %d (from %q)", canon, v2, q2, ok2, value, q, s)
		}
	})
}

func FuzzParseMediaRange(f *testing.F) {
	for _, tt := range parseMediaRangeTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mr, ok := header.ParseMediaRange(s)
		if !ok {
			if mr != (header.MediaRange{}) {
				t.Fatalf("ParseMediaRange(%q) failed but returned %+v", s, mr)
			}
			return
		}
		if !header.IsToken(mr.Type) || !header.IsToken(mr.Subtype) || mr.Type == "*" && mr.Subtype != "*" {
			t.Fatalf("ParseMediaRange(%q) = %+v: bad type", s, mr)
		}
		if !within(mr.Type, s) || !within(mr.Subtype, s) || !within(mr.Params, s) || mr.Q < 0 || mr.Q > header.QMax {
			t.Fatalf("ParseMediaRange(%q) = %+v", s, mr)
		}
		if p := mr.Params; p != "" && (p[0] == ';' || p[len(p)-1] == ';' || hasOWSEdge(p)) {
			t.Fatalf("ParseMediaRange(%q) params %q not trimmed", s, p)
		}
		// Every parameter in Params is well-formed and none is q.
		for p := mr.Params; p != ""; {
			name, _, rest, pok := header.NextParam(p)
			if !pok || strings.EqualFold(name, "q") {
				t.Fatalf("ParseMediaRange(%q) params %q: bad parameter at %q", s, mr.Params, p)
			}
			p = rest
		}
		// Round trip through the canonical form.
		canon := mr.Type + "/" + mr.Subtype
		if mr.Params != "" {
			canon += ";" + mr.Params
		}
		canon += ";q=" + strconv.FormatFloat(float64(mr.Q)/1000, 'f', 3, 64)
		if mr2, ok2 := header.ParseMediaRange(canon); !ok2 || mr2 != mr {
			t.Fatalf("ParseMediaRange(%q) = %+v, %v; want %+v (from %q)", canon, mr2, ok2, mr, s)
		}
	})
}

func FuzzParseETag(f *testing.F) {
	for _, tt := range parseETagTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, ok := header.ParseETag(s)
		if !ok {
			if e != (header.ETag{}) {
				t.Fatalf("ParseETag(%q) failed but returned %+v", s, e)
			}
			return
		}
		if e.String() != s || !within(e.Opaque, s) || e.Weak != strings.HasPrefix(s, "W/") {
			t.Fatalf("ParseETag(%q) = %+v", s, e)
		}
		// A valid tag is one element of a list, alone or among others.
		list := " " + s + " ,W/\"x\", " + s
		if got := slices.Collect(header.ETags([]string{list})); !slices.Equal(got, []string{s, `W/"x"`, s}) {
			t.Fatalf("ETags(%q) = %q", list, got)
		}
		if m, _, valid := header.MatchETags([]string{list}, e, false); m != !e.Weak || !valid {
			t.Fatalf("MatchETags(%q, %s, strong) = %v, valid %v", list, s, m, valid)
		}
		if m, _, _ := header.MatchETags([]string{list}, e, true); !m {
			t.Fatalf("MatchETags(%q, %s, weak) = false", list, s)
		}
	})
}

func FuzzMatchETags(f *testing.F) {
	for _, tt := range matchETagsTests {
		f.Add(strings.Join(tt.values, ", "), tt.cur)
	}
	for _, tt := range nextETagTests {
		f.Add(tt.in, `"a"`)
	}
	f.Fuzz(func(t *testing.T, list, curS string) {
		for s := list; s != ""; {
			elem, rest := header.NextETag(s)
			if !within(elem, s) || !strings.HasSuffix(s, rest) || len(rest) >= len(s) || hasOWSEdge(elem) {
				t.Fatalf("NextETag(%q) = %q, %q", s, elem, rest)
			}
			if rest != "" && s[len(s)-len(rest)-1] != ',' {
				t.Fatalf("NextETag(%q) split at %q, not at a comma", s, s[len(s)-len(rest)-1])
			}
			s = rest
		}
		cur, ok := header.ParseETag(curS)
		if !ok {
			cur = header.ETag{Opaque: `"a"`}
		}
		// MatchETags agrees with ETags + ParseETag + the comparisons.
		for _, weak := range []bool{false, true} {
			var wm, wa, wv bool
			for e := range header.ETags([]string{list}) {
				if e == "*" {
					wa, wv = true, true
					continue
				}
				if tag, ok := header.ParseETag(e); ok {
					wv = true
					wm = wm || weak && header.WeakMatch(tag, cur) || !weak && header.StrongMatch(tag, cur)
				}
			}
			m, a, v := header.MatchETags([]string{list}, cur, weak)
			if m != wm || a != wa || v != wv {
				t.Fatalf("MatchETags(%q, %+v, %v) = %v %v %v, want %v %v %v", list, cur, weak, m, a, v, wm, wa, wv)
			}
		}
	})
}

// FuzzAddVary: existing is the Vary field, its lines separated by "\n".
// AddVary keeps the existing members in order, adds each name once
// (case-insensitively), never next to "*", joins lines only when none of
// them has a malformed member, and is idempotent.
func FuzzAddVary(f *testing.F) {
	for _, tt := range addVaryTests {
		f.Add(strings.Join(tt.existing, "\n"), strings.Join(tt.names, ","))
	}
	f.Fuzz(func(t *testing.T, existing, names string) {
		lines := strings.Split(existing, "\n")
		h := http.Header{"Vary": slices.Clone(lines)}
		header.AddVary(h, names)
		got := h["Vary"]
		before := slices.Collect(header.Elements(lines))
		after := slices.Collect(header.Elements(got))
		wanted := slices.Collect(header.Elements([]string{names}))
		switch {
		case slices.Contains(before, "*"):
			if !slices.Equal(got, lines) {
				t.Fatalf("Vary %q changed to %q despite *", lines, got)
			}
		case slices.Equal(got, []string{"*"}):
			if !slices.Contains(wanted, "*") {
				t.Fatalf("Vary %q became * without * in %q", lines, names)
			}
		default:
			if len(after) < len(before) || !slices.Equal(after[:len(before)], before) {
				t.Fatalf("existing members %q not kept: %q", before, got)
			}
			added := after[len(before):]
			if slices.Contains(added, "*") {
				t.Fatalf("* added next to other names: %q", got)
			}
			// The members are the set of the existing ones and the names,
			// case-insensitively; the added ones are unique.
			for _, n := range wanted {
				if !slices.ContainsFunc(after, func(e string) bool { return strings.EqualFold(e, n) }) {
					t.Fatalf("AddVary(%q, %q) = %q misses %q", lines, names, got, n)
				}
			}
			for i, a := range added {
				if !slices.ContainsFunc(wanted, func(n string) bool { return strings.EqualFold(a, n) }) {
					t.Fatalf("AddVary(%q, %q) = %q adds %q", lines, names, got, a)
				}
				for _, b := range append(slices.Clone(before), added[:i]...) {
					if strings.EqualFold(a, b) {
						t.Fatalf("AddVary(%q, %q) = %q duplicates %q", lines, names, got, a)
					}
				}
			}
			checkVaryJoins(t, lines, got)
		}
		// Idempotent.
		again := slices.Clone(got)
		header.AddVary(h, names)
		if !slices.Equal(h["Vary"], again) {
			t.Fatalf("second AddVary(%q) changed %q to %q", names, again, h["Vary"])
		}
	})
}

// checkVaryJoins fails unless every line of got is one of the lines AddVary
// was given, a single member, or a join of plain token lists (no malformed
// member joined with another one).
func checkVaryJoins(t *testing.T, lines, got []string) {
	t.Helper()
	for _, l := range got {
		if slices.Contains(lines, l) {
			continue
		}
		members := slices.Collect(header.Elements([]string{l}))
		if len(members) < 2 {
			continue
		}
		for _, m := range members {
			if !header.IsToken(m) {
				t.Fatalf("line %q of %q joins the malformed member %q (from %q)", l, got, m, lines)
			}
		}
	}
}

func FuzzNextMediaRange(f *testing.F) {
	for _, tt := range parseMediaRangeTests {
		f.Add(tt.in + ", " + tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The one-pass list parser agrees with NextElement + ParseMediaRange.
		rest := s
		for e := range header.Elements([]string{s}) {
			var mr header.MediaRange
			var ok bool
			mr, rest, ok = header.NextMediaRange(rest)
			want, wantOK := header.ParseMediaRange(e)
			if mr != want || ok != wantOK {
				t.Fatalf("NextMediaRange on %q at %q = %+v, %v; want %+v, %v", s, e, mr, ok, want, wantOK)
			}
		}
		if mr, r, ok := header.NextMediaRange(rest); ok || r != "" || mr != (header.MediaRange{}) {
			t.Fatalf("NextMediaRange(%q) after the last element = %+v, %q, %v", rest, mr, r, ok)
		}
	})
}

func FuzzNextWeighted(f *testing.F) {
	f.Add("en-US,en;q=0.9,de;q=0.8")
	f.Add(` , gzip;q=0.5 ,, *;q=0, x;a="b,c"`)
	f.Fuzz(func(t *testing.T, s string) {
		rest := s
		for e := range header.Elements([]string{s}) {
			var v string
			var q int
			var ok bool
			v, q, rest, ok = header.NextWeighted(rest)
			wv, wq, wok := header.ParseWeighted(e)
			if v != wv || q != wq || ok != wok {
				t.Fatalf("NextWeighted on %q at %q = %q, %d, %v; want %q, %d, %v", s, e, v, q, ok, wv, wq, wok)
			}
		}
		if v, _, r, ok := header.NextWeighted(rest); ok || r != "" || v != "" {
			t.Fatalf("NextWeighted(%q) after the last element = %q, %q, %v", rest, v, r, ok)
		}
	})
}

func FuzzParamsContain(f *testing.F) {
	f.Add("charset=utf-8; level=1", `LEVEL="1"`)
	f.Add(`a="x\"y"`, `a="X\"Y"`)
	f.Fuzz(func(t *testing.T, have, want string) {
		limit, _ := header.CountParams(have)
		n, ok := header.ParamsContain(have, want, limit)
		if ok && n > limit {
			t.Fatalf("ParamsContain(%q, %q) matched %d parameters, have holds %d", have, want, n, limit)
		}
		if wn, wok := header.CountParams(want); ok && n > 0 && wok {
			// Every parameter string contains itself.
			if _, self := header.ParamsContain(want, want, wn); !self {
				t.Fatalf("ParamsContain(%q, itself) = false", want)
			}
		}
		if header.ParamValueEqualFold(have, want) != header.ParamValueEqualFold(want, have) {
			t.Fatalf("ParamValueEqualFold(%q, %q) not symmetric", have, want)
		}
		if header.ParamValueEqualFold(have, want) && !strings.EqualFold(header.Unquote(have), header.Unquote(want)) {
			t.Fatalf("ParamValueEqualFold(%q, %q) = true, but unquoted they differ", have, want)
		}
	})
}

func FuzzLanguageRange(f *testing.F) {
	f.Add("zh-Hant-TW", "zh-Hant")
	f.Add("en", "en-GB")
	f.Fuzz(func(t *testing.T, tag, prefix string) {
		if header.IsLanguageTag(tag) && !header.IsLanguageRange(tag) {
			t.Fatalf("tag %q is not a range", tag)
		}
		if header.HasLanguagePrefix(tag, prefix) {
			if !strings.EqualFold(tag[:len(prefix)], prefix) {
				t.Fatalf("HasLanguagePrefix(%q, %q) without a common prefix", tag, prefix)
			}
			if header.HasLanguagePrefix(prefix, tag) && len(tag) != len(prefix) {
				t.Fatalf("HasLanguagePrefix both ways for %q, %q", tag, prefix)
			}
		}
	})
}

func FuzzNormalizeVary(f *testing.F) {
	for _, tt := range normalizeVaryTests {
		f.Add(strings.Join(tt.in, "\n"))
	}
	f.Fuzz(func(t *testing.T, lines string) {
		in := strings.Split(lines, "\n")
		h := http.Header{"Vary": slices.Clone(in)}
		header.NormalizeVary(h)
		got := h["Vary"]
		before := slices.Collect(header.Elements(in))
		after := slices.Collect(header.Elements(got))
		if slices.Contains(before, "*") {
			if !slices.Equal(got, []string{"*"}) {
				t.Fatalf("Vary %q normalized to %q, want *", in, got)
			}
			return
		}
		for i, a := range after {
			for _, b := range after[:i] {
				if strings.EqualFold(a, b) {
					t.Fatalf("Vary %q normalized to %q: %q twice", in, got, a)
				}
			}
		}
		for _, b := range before {
			if !slices.ContainsFunc(after, func(a string) bool { return strings.EqualFold(a, b) }) {
				t.Fatalf("Vary %q normalized to %q lost %q", in, got, b)
			}
		}
		checkVaryJoins(t, in, got)
		if !slices.ContainsFunc(before, func(e string) bool { return !header.IsToken(e) }) && len(got) > 1 {
			t.Fatalf("Vary %q of tokens normalized to %d lines %q", in, len(got), got)
		}
		again := slices.Clone(got)
		header.NormalizeVary(h)
		if !slices.Equal(h["Vary"], again) {
			t.Fatalf("not idempotent: %q then %q", again, h["Vary"])
		}
	})
}

func FuzzFoldKeys(f *testing.F) {
	for _, tt := range foldKeysTests {
		for k, v := range tt.in {
			f.Add(k, strings.Join(v, ","), "Etag")
		}
	}
	f.Fuzz(func(t *testing.T, k1, v1, k2 string) {
		h := http.Header{k1: {v1}, k2: {"x"}}
		header.FoldKeys(h)
		for k := range h {
			if c := http.CanonicalHeaderKey(k); c != k && h[c] != nil && strings.EqualFold(c, "vary") {
				t.Fatalf("%q left next to %q: %v", k, c, h)
			}
		}
		total := 0
		for _, v := range h {
			total += len(v)
		}
		if total > 2 || total == 0 {
			t.Fatalf("values appeared or vanished: %v", h)
		}
		again := h.Clone()
		header.FoldKeys(h)
		if len(h) != len(again) {
			t.Fatalf("not idempotent: %v then %v", again, h)
		}
	})
}
