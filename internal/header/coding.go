package header

import "strings"

// codingSuffixes are the content codings whose name an encoding middleware
// appends to a strong entity tag ("v1" → "v1-gzip"), so that each encoded
// representation has its own strong validator (RFC 9110 §8.8.3).
var codingSuffixes = [...]string{"gzip", "br", "zstd", "deflate"}

// CutCodingSuffix splits a coding suffix off opaque, the characters of an
// opaque-tag between its double quotes: "v1-gzip" gives base "v1" and
// suffix "gzip". The suffixes are -gzip, -br, -zstd and -deflate, lower
// case, after a non-empty base. Without one it returns opaque and "".
func CutCodingSuffix(opaque string) (base, suffix string) {
	for _, n := range codingSuffixes {
		if len(opaque) > len(n)+1 && strings.HasSuffix(opaque, n) && opaque[len(opaque)-len(n)-1] == '-' {
			return opaque[:len(opaque)-len(n)-1], n
		}
	}
	return opaque, ""
}
