package header

import "strings"

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
	typ, params := CutParams(elem)
	slash := strings.IndexByte(typ, '/')
	if slash < 0 {
		return MediaRange{}, false
	}
	mr.Type, mr.Subtype = typ[:slash], typ[slash+1:]
	if !IsToken(mr.Type) || !IsToken(mr.Subtype) || (mr.Type == "*" && mr.Subtype != "*") {
		return MediaRange{}, false
	}
	mr.Q = QMax
	all := params
	for params != "" {
		before := params
		name, v, rest, pok := NextParam(params)
		if !pok {
			return MediaRange{}, false
		}
		if strings.EqualFold(name, "q") {
			if mr.Q, ok = ParseQ(v); !ok {
				return MediaRange{}, false
			}
			mr.Params = trimTrailingSemis(all[:len(all)-len(before)])
			return mr, true
		}
		params = rest
	}
	mr.Params = all
	return mr, true
}
