// Package problem writes RFC 9457 application/problem+json responses for the
// errors that httpmw middlewares answer themselves.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/jiec/httpmw/internal/traceid"
)

// ContentType is the media type of a problem details document.
const ContentType = "application/problem+json"

// Details is a problem details object (RFC 9457 §3). Empty members are
// omitted; Type defaults to "about:blank", Title to the status text, and a
// Status outside 100..999 (e.g. zero) to 500.
type Details struct {
	Type     string
	Title    string
	Status   int
	Detail   string
	Instance string
	// Extensions are extra members (RFC 9457 §3.2), e.g. "retry_after".
	// They never override or add the standard members above (type, title,
	// status, detail, instance), nor the "trace_id" taken from the context.
	Extensions map[string]any
}

// Write sends d as the response, with the request's trace id (if any) as the
// "trace_id" extension member. Values are JSON-encoded with HTML escaping, so
// request data placed in Detail cannot break out of its string.
func Write(w http.ResponseWriter, r *http.Request, d Details) {
	d.Status = status(d.Status)
	body := Marshal(r, d)
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Del("Last-Modified")
	w.WriteHeader(d.Status)
	if r == nil || r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Marshal returns the JSON document for d (see Write).
func Marshal(r *http.Request, d Details) []byte {
	m := make(map[string]any, len(d.Extensions)+6)
	for k, v := range d.Extensions {
		switch k {
		case "type", "title", "status", "detail", "instance":
			continue // RFC 9457 §3.2: extensions do not redefine members
		}
		m[k] = v
	}
	if r != nil {
		if id := traceid.ID(r.Context()); id != "" {
			m["trace_id"] = id
		}
	}
	d.Status = status(d.Status)
	if d.Type == "" {
		d.Type = "about:blank"
	}
	if d.Title == "" {
		d.Title = http.StatusText(d.Status)
	}
	m["type"] = d.Type
	m["title"] = d.Title
	m["status"] = d.Status
	if d.Detail != "" {
		m["detail"] = d.Detail
	}
	if d.Instance != "" {
		m["instance"] = d.Instance
	}
	b, err := json.Marshal(m)
	if err != nil {
		// Only an unencodable extension can fail; drop the extensions.
		return Marshal(r, Details{Type: d.Type, Title: d.Title, Status: d.Status, Detail: d.Detail, Instance: d.Instance})
	}
	return append(b, '\n')
}

// status returns code, or 500 when code is not a valid HTTP status
// (net/http panics on those).
func status(code int) int {
	if code < 100 || code > 999 {
		return http.StatusInternalServerError
	}
	return code
}
