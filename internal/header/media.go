package header

// MediaRange is one element of an Accept field (RFC 9110 §12.5.1).
type MediaRange struct {
	Type, Subtype string // as written; compare case-insensitively; "*" for wildcards
	Params        string // media-type parameters before q, raw (iterate with NextParam)
	Q             int    // weight in thousandths
}

// ParseMediaRange parses `type/subtype *(; param) [; q=qvalue *(; ext)]`.
// Parameters after q are accept extensions and are ignored. ok is false for a
// malformed range (bad token, "*/subtype", bad q).
func ParseMediaRange(elem string) (mr MediaRange, ok bool) {
	// One pass over type "/" subtype: this runs for every element of every
	// Accept field (a browser sends 7 to 9).
	for len(elem) > 0 && IsOWS(elem[0]) {
		elem = elem[1:]
	}
	i := 0
	for i < len(elem) && IsTokenChar(elem[i]) {
		i++
	}
	if i == 0 || i == len(elem) || elem[i] != '/' {
		return MediaRange{}, false
	}
	j := i + 1
	for j < len(elem) && IsTokenChar(elem[j]) {
		j++
	}
	if j == i+1 {
		return MediaRange{}, false
	}
	mr.Type, mr.Subtype = elem[:i], elem[i+1:j]
	if mr.Type == "*" && mr.Subtype != "*" {
		return MediaRange{}, false
	}
	mr.Q = QMax
	rest := elem[j:]
	for len(rest) > 0 && IsOWS(rest[0]) {
		rest = rest[1:]
	}
	if rest == "" {
		return mr, true
	}
	if rest[0] != ';' || !mr.parseParams(rest) {
		return MediaRange{}, false
	}
	return mr, true
}

// parseParams parses the parameters (starting at ';') of a range whose type
// and subtype are set, up to and including the weight.
func (mr *MediaRange) parseParams(rest string) bool {
	params := trimSemis(rest)
	all := params
	for params != "" {
		before := params
		name, v, rest, pok := NextParam(params)
		if !pok {
			return false
		}
		if len(name) == 1 && (name[0] == 'q' || name[0] == 'Q') {
			var ok bool
			if mr.Q, ok = ParseQ(v); !ok {
				return false
			}
			mr.Params = trimTrailingSemis(all[:len(all)-len(before)])
			return true
		}
		params = rest
	}
	mr.Params = all
	return true
}

// NextMediaRange parses the first non-empty element of the Accept list s
// as ParseMediaRange does, and returns the rest of the list after it (as
// NextElement would). It scans type and subtype once, so a list is parsed
// in about one pass. When s holds no element it returns ok false and rest "".
func NextMediaRange(s string) (mr MediaRange, rest string, ok bool) {
	for len(s) > 0 && (IsOWS(s[0]) || s[0] == ',') {
		s = s[1:]
	}
	i := 0
	for i < len(s) && IsTokenChar(s[i]) {
		i++
	}
	if i == 0 || i == len(s) || s[i] != '/' {
		return slowMediaRange(s)
	}
	j := i + 1
	for j < len(s) && IsTokenChar(s[j]) {
		j++
	}
	k := j
	for k < len(s) && IsOWS(s[k]) {
		k++
	}
	switch {
	case j == i+1 || (s[:i] == "*" && s[i+1:j] != "*"):
		return slowMediaRange(s)
	case k == len(s):
		rest = ""
	case s[k] == ',':
		rest = s[k+1:]
	case s[k] == ';':
		if q, rest, ok := fastWeight(s[k+1:]); ok {
			return MediaRange{Type: s[:i], Subtype: s[i+1 : j], Q: q}, rest, true
		}
		var elem string
		elem, rest = NextElement(s[k:])
		mr.Type, mr.Subtype, mr.Q = s[:i], s[i+1:j], QMax
		if !mr.parseParams(elem) {
			return MediaRange{}, rest, false
		}
		return mr, rest, true
	default:
		return slowMediaRange(s)
	}
	return MediaRange{Type: s[:i], Subtype: s[i+1 : j], Q: QMax}, rest, true
}

func slowMediaRange(s string) (MediaRange, string, bool) {
	elem, rest := NextElement(s)
	mr, ok := ParseMediaRange(elem)
	return mr, rest, ok
}

// fastWeight parses the common tail `q=qvalue OWS ("," / end)` that follows
// the ';' after a subtype, returning the weight and the rest of the list.
// ok false means the general path must decide (other parameters,
// extensions, quoting, malformed values).
func fastWeight(s string) (q int, rest string, ok bool) {
	for len(s) > 0 && IsOWS(s[0]) {
		s = s[1:]
	}
	if len(s) < 3 || s[0]|0x20 != 'q' || s[1] != '=' {
		return 0, "", false
	}
	e := 2
	for e < len(s) && (s[e] == '.' || '0' <= s[e] && s[e] <= '9') {
		e++
	}
	if q, ok = ParseQ(s[2:e]); !ok {
		return 0, "", false
	}
	for r := e; ; r++ {
		switch {
		case r == len(s):
			return q, "", true
		case s[r] == ',':
			return q, s[r+1:], true
		case !IsOWS(s[r]):
			return 0, "", false
		}
	}
}
