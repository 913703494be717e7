package header

import (
	"net/http"
	"strings"
)

// AddVary appends the field names to the Vary header of h, case-insensitively
// without duplicates (RFC 9110 §12.5.5). A name may itself be a comma list
// ("Accept, Origin"). It adds nothing when Vary already holds "*"; adding "*"
// replaces the list. Existing lines are kept as they are, and their backing
// array is never written to (it may be shared with another header map).
func AddVary(h http.Header, names ...string) {
	for n := range Elements(names) {
		cur := h["Vary"]
		if containsFold(cur, n) {
			continue
		}
		if containsFold(cur, "*") {
			return
		}
		if n == "*" {
			h["Vary"] = []string{"*"}
			return
		}
		h["Vary"] = append(cur[:len(cur):len(cur)], n)
	}
}

func containsFold(values []string, name string) bool {
	for e := range Elements(values) {
		if strings.EqualFold(e, name) {
			return true
		}
	}
	return false
}
