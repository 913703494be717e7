package compress

import (
	"strings"

	"github.com/jiec/httpmw/internal/header"
)

// negotiate picks the response coding for the Accept-Encoding field lines
// values (RFC 9110 §12.5.3). It returns codingIdentity when no configured
// coding is acceptable or the client prefers identity.
//
//   - No field, or an empty one, means identity only. (RFC 9110 allows any
//     coding when the field is absent; like every browser-facing server we do
//     not compress for clients that did not ask.)
//   - Codings are compared case-insensitively; "x-gzip" is gzip (§8.4.1.3).
//   - An element with a malformed q is ignored; q=0 means "not acceptable".
//   - "*" gives its q to every coding not listed, and to identity unless
//     identity is listed.
//   - The highest q wins; among equal q-values the server order decides, and
//     a coding beats identity (so "gzip, identity" compresses).
//   - If the first listing of a coding repeats, the first one counts.
//   - Fields longer than header.MaxLen are ignored (identity); at most
//     header.MaxElements elements are read.
func (c *config) negotiate(values []string) coding {
	if len(values) == 0 || len(c.codings) == 0 || header.TotalLen(values) > header.MaxLen {
		return codingIdentity
	}
	var qs [numCodings]int // by coding; 0 = unlisted, else q+1
	star, ident := 0, 0    // q+1, 0 = unlisted
	n := 0
	for e := range header.Elements(values) {
		if n++; n > header.MaxElements {
			break
		}
		name, q, ok := header.ParseWeighted(e)
		if !ok {
			continue
		}
		var slot *int
		switch {
		case name == "*":
			slot = &star
		case strings.EqualFold(name, "identity"):
			slot = &ident
		case strings.EqualFold(name, "x-gzip"):
			slot = &qs[codingGzip]
		default:
			cd, ok := codingByName(name)
			if !ok {
				continue
			}
			slot = &qs[cd]
		}
		if *slot == 0 {
			*slot = q + 1
		}
	}
	best, bestQ := codingIdentity, 0
	for _, cd := range c.codings {
		q := qs[cd]
		if q == 0 {
			q = star
		}
		if q-1 > bestQ {
			best, bestQ = cd, q-1
		}
	}
	if best == codingIdentity {
		return codingIdentity
	}
	if ident == 0 {
		ident = star
	}
	if ident-1 > bestQ {
		return codingIdentity
	}
	return best
}
