package negotiate

import (
	"net/http"
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

// score is what the request says about one offer: the weight (thousandths)
// given by the most specific range that matches it. spec < 0 means no range
// matched (the offer is not acceptable).
type score struct{ q, spec int32 }

// stackOffers is how many offers per dimension are scored without
// allocating.
const stackOffers = 16

// stackStandalone is the same for the standalone functions, which also
// parse their offers on every call (smaller, so less stack to clear).
const stackStandalone = 8

// Match outcomes of a field.
const (
	noPreference = -1 // field absent, oversized or without one valid element
	noneMatched  = -2 // no offer acceptable
)

// pick returns the index of the best-scored offer: the highest q above 0,
// then the most specific range, then the server's order. It returns
// noneMatched when every offer scored q=0 or matched nothing.
func pick(sc []score) int {
	best := noneMatched
	var bq, bs int32
	for i, s := range sc {
		if s.spec < 0 || s.q == 0 {
			continue
		}
		if best < 0 || s.q > bq || (s.q == bq && s.spec > bs) {
			best, bq, bs = i, s.q, s.spec
		}
	}
	return best
}

// raise records a range of weight q and specificity spec matching an offer:
// the most specific range decides; among equally specific ranges the
// highest weight counts.
func (s *score) raise(q int, spec int32) {
	if spec > s.spec || (spec == s.spec && int32(q) > s.q) {
		s.q, s.spec = int32(q), spec
	}
}

func resetScores(sc []score) {
	for i := range sc {
		sc[i] = score{spec: -1}
	}
}

// fieldValues returns the request's field lines of the canonical key, or
// nil when they are absent or longer than header.MaxLen in total (an
// oversized field is ignored, as if absent).
func fieldValues(r *http.Request, key string) []string {
	if r == nil {
		return nil
	}
	v := r.Header[key]
	if header.TotalLen(v) > header.MaxLen {
		return nil
	}
	return v
}

// mediaOffer is an offered media type, parsed.
type mediaOffer struct {
	typ, sub, params string
	nparams          int
}

// parseMediaOffer parses a concrete media type with optional parameters
// (no wildcards, no "q" parameter).
func parseMediaOffer(s string) (mediaOffer, bool) {
	// Offers without parameters, the common case, in one short pass.
	i := 0
	for i < len(s) && header.IsTokenChar(s[i]) {
		i++
	}
	if i > 0 && i < len(s) && s[i] == '/' {
		j := i + 1
		for j < len(s) && header.IsTokenChar(s[j]) {
			j++
		}
		if j == len(s) && j > i+1 {
			if s[:i] == "*" || s[i+1:] == "*" {
				return mediaOffer{}, false
			}
			return mediaOffer{typ: s[:i], sub: s[i+1:]}, true
		}
	}
	mr, ok := header.ParseMediaRange(s)
	if !ok || mr.Type == "*" || mr.Subtype == "*" || mr.Q != header.QMax {
		return mediaOffer{}, false
	}
	if mr.Params != "" || strings.IndexByte(s, ';') >= 0 {
		if _, params := header.CutParams(s); params != mr.Params {
			return mediaOffer{}, false // a "q" parameter
		}
	}
	n, _ := header.CountParams(mr.Params)
	return mediaOffer{typ: mr.Type, sub: mr.Subtype, params: mr.Params, nparams: n}, true
}

// matchMedia returns the specificity with which range mr matches offer o,
// or -1: "*/*" < "type/*" < "type/subtype" < with each parameter more
// (RFC 9110 §12.5.1).
func matchMedia(mr *header.MediaRange, o *mediaOffer) int32 {
	var level int32
	if mr.Type != "*" {
		if mr.Type != o.typ && !equalFold(mr.Type, o.typ) {
			return -1
		}
		level = 1
		if mr.Subtype != "*" {
			if mr.Subtype != o.sub && !equalFold(mr.Subtype, o.sub) {
				return -1
			}
			level = 2
		}
	}
	n := 0
	if mr.Params != "" {
		var ok bool
		if n, ok = header.ParamsContain(o.params, mr.Params, o.nparams); !ok {
			return -1
		}
	}
	return level<<8 | int32(min(n, 255))
}

// scoreMedia scores offers (o.typ == "" for an unusable one) against the
// Accept field lines values. It returns noPreference, or the pick.
func scoreMedia(values []string, offers []mediaOffer, sc []score) int {
	resetScores(sc)
	valid, n := false, 0
	for _, s := range values {
		for s != "" && n < header.MaxElements {
			n++
			var mr header.MediaRange
			var ok bool
			if mr, s, ok = header.NextMediaRange(s); !ok {
				continue
			}
			valid = true
			for i := range offers {
				if o := &offers[i]; o.typ != "" {
					if spec := matchMedia(&mr, o); spec >= 0 {
						sc[i].raise(mr.Q, spec)
					}
				}
			}
		}
	}
	if !valid {
		return noPreference
	}
	return pick(sc)
}

// matchLanguage returns the specificity with which the language range rng
// matches the offered tag, or -1 (RFC 4647 §3.3.1, §3.4):
//
//   - "*" matches every tag (lowest);
//   - lookup: the offer is the range or a truncation of it ("zh-Hant" for
//     "zh-Hant-TW"), for ranges with q > 0 (a q=0 range excludes only what
//     it names and what starts with it);
//   - basic filtering: the range is a prefix of the offer ("en" for
//     "en-GB"), unless lookupOnly (q=0 ranges always filter);
//   - the longer the shared prefix, the more specific; an exact match is the
//     most specific.
func matchLanguage(rng, offer string, positive, lookupOnly bool) int32 {
	switch {
	case rng == "*":
		return 0
	case len(rng) == len(offer) && equalFold(rng, offer):
		return 1 << 16
	case positive && header.HasLanguagePrefix(rng, offer):
		return int32(len(offer)) + 1
	case (!lookupOnly || !positive) && header.HasLanguagePrefix(offer, rng):
		return int32(len(rng)) + 1
	}
	return -1
}

// scoreLanguages scores offers ("" for an unusable one) against the
// Accept-Language field lines values.
func scoreLanguages(values, offers []string, lookupOnly bool, sc []score) int {
	resetScores(sc)
	valid, n := false, 0
	for _, s := range values {
		for s != "" && n < header.MaxElements {
			n++
			var rng string
			var q int
			var ok bool
			if rng, q, s, ok = header.NextWeighted(s); !ok || !header.IsLanguageRange(rng) {
				continue
			}
			valid = true
			for i, o := range offers {
				if o == "" {
					continue
				}
				if spec := matchLanguage(rng, o, q > 0, lookupOnly); spec >= 0 {
					sc[i].raise(q, spec)
				}
			}
		}
	}
	if !valid {
		return noPreference
	}
	return pick(sc)
}

// scoreCharsets scores offers ("" for an unusable one) against the
// Accept-Charset field lines values: a named charset is more specific than
// "*" (RFC 9110 §12.5.2).
func scoreCharsets(values, offers []string, sc []score) int {
	resetScores(sc)
	valid, n := false, 0
	for _, s := range values {
		for s != "" && n < header.MaxElements {
			n++
			var cs string
			var q int
			var ok bool
			if cs, q, s, ok = header.NextWeighted(s); !ok {
				continue
			}
			valid = true
			for i, o := range offers {
				switch {
				case o == "":
				case cs == "*":
					sc[i].raise(q, 0)
				case equalFold(cs, o):
					sc[i].raise(q, 1)
				}
			}
		}
	}
	if !valid {
		return noPreference
	}
	return pick(sc)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca|0x20 != cb|0x20 || ca|0x20 < 'a' || ca|0x20 > 'z' {
			return false
		}
	}
	return true
}
