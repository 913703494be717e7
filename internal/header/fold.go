package header

import (
	"net/http"
	"strings"
)

// FoldKeysTrailers is FoldKeys that also reports whether h holds a key
// with http.TrailerPrefix (a trailer value set in the header map), seen
// by the same walk over the map: a walk over a map of a dozen fields costs
// about as much as everything else FoldKeys does, and a caller that needs
// both (the Writer at the commit of a status that a cache then holds)
// pays for one. Such keys are never folded: net/http matches the prefix
// case-sensitively, as written.
func FoldKeysTrailers(h http.Header) (trailerKeys bool) {
	for k, v := range h {
		c := foldedKey(k)
		if c == "" {
			trailerKeys = trailerKeys || strings.HasPrefix(k, http.TrailerPrefix)
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
	return trailerKeys
}
