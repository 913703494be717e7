package problem

import (
	"net/http"
	"strconv"

	"github.com/jiec/httpmw/internal/traceid"
)

// Prepared is a problem document rendered once, when a middleware is
// configured, for answers that carry nothing from the request (a failed CORS
// preflight, a failed precondition). Writing it allocates nothing.
//
// Its header values are shared by every response: they have len == cap, so an
// append by another middleware reallocates, but nobody may write into them in
// place.
type Prepared struct {
	d                            Details
	body                         []byte
	contentType, length, nosniff []string
}

// Prepare renders d.
func Prepare(d Details) *Prepared {
	d.Status = status(d.Status)
	body := Marshal(nil, d)
	return &Prepared{
		d:           d,
		body:        body,
		contentType: []string{ContentType},
		length:      []string{strconv.Itoa(len(body))},
		nosniff:     []string{"nosniff"},
	}
}

// Write sends the document as Write(w, r, d) would. A request with a trace id
// gets a fresh document, since it must carry the "trace_id" member.
func (p *Prepared) Write(w http.ResponseWriter, r *http.Request) {
	if r != nil && traceid.ID(r.Context()) != "" {
		Write(w, r, p.d)
		return
	}
	h := w.Header()
	h["Content-Type"] = p.contentType
	h["Content-Length"] = p.length
	h["X-Content-Type-Options"] = p.nosniff
	delete(h, "Content-Encoding")
	delete(h, "Etag")
	delete(h, "Last-Modified")
	w.WriteHeader(p.d.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}
