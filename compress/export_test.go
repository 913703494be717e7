package compress

import (
	"net/http"
	"sync"
	"unsafe"

	"github.com/jiec/httpmw/internal/writer"
)

// Negotiate exposes the Accept-Encoding decision to the fuzz tests.
func Negotiate(m *Middleware, values []string) string { return m.c.negotiate(values).String() }

// Internals returns the pooled response behind the writer a handler received
// and its current encoder (nil if none), for tests of pool hygiene.
func Internals(w http.ResponseWriter) (resp, enc any) {
	r := (*response)(unsafe.Pointer(w.(*writer.Writer))) // Writer is response's first field
	return r, r.enc
}

// Drain empties m's pools of responses and of encoders for the coding name
// and returns what they held.
func Drain(m *Middleware, name string) []any {
	cd, _ := codingByName(name)
	var out []any
	for _, p := range []*sync.Pool{&m.responses, &m.encoders.p[cd]} {
		n := p.New
		p.New = nil
		for x := p.Get(); x != nil; x = p.Get() {
			out = append(out, x)
		}
		p.New = n
	}
	return out
}
