package problem

import (
	"net/http"
	"strconv"

	"github.com/jiec/httpmw/internal/slots"
	"github.com/jiec/httpmw/internal/traceid"
)

// Prepared is a problem document rendered once, when a middleware is
// configured, for answers that carry nothing from the request (a failed CORS
// preflight, a failed precondition). Writing it allocates nothing (amortized).
//
// Every response gets header values of its own (internal/slots), so a layer
// that edits one in place, or appends to it, changes no other response.
type Prepared struct {
	d      Details
	body   []byte
	length string
	slabs  slots.Pool
}

// Prepare renders d.
func Prepare(d Details) *Prepared {
	d.Status = status(d.Status)
	body := Marshal(nil, d)
	return &Prepared{
		d:      d,
		body:   body,
		length: strconv.Itoa(len(body)),
	}
}

// Write sends the document as Write(w, r, d) would. A request with a trace id
// gets a fresh document, since it must carry the "trace_id" member.
func (p *Prepared) Write(w http.ResponseWriter, r *http.Request) {
	s := p.slabs.Get(PreparedValues)
	p.WriteFrom(w, r, s)
	p.slabs.Put(s)
}

// PreparedValues is how many header values WriteFrom takes from its slab.
const PreparedValues = 3

// WriteFrom is Write taking the header values from s, which must have
// PreparedValues free: for a caller that already holds a slab.
func (p *Prepared) WriteFrom(w http.ResponseWriter, r *http.Request, s *slots.Slab) {
	if r != nil && traceid.ID(r.Context()) != "" {
		Write(w, r, p.d)
		return
	}
	h := w.Header()
	// Values of their own (amortized no allocation): a layer that edits
	// them in place must not change the next answer.
	h["Content-Type"] = s.Take(ContentType)
	h["Content-Length"] = s.Take(p.length)
	h["X-Content-Type-Options"] = s.Take("nosniff")
	delete(h, "Content-Encoding")
	delete(h, "Etag")
	delete(h, "Last-Modified")
	w.WriteHeader(p.d.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}
