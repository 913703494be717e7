package negotiate_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/writer"
	"github.com/jiec/httpmw/negotiate"
)

// TestVaryRegisteredOnOuterWriter: under another httpmw layer (an
// internal/writer.Writer outside, as in the recommended chain) the
// middleware wraps nothing: it registers its Vary names on that Writer,
// which merges them when the status is committed or, with none committed,
// when the layer finishes. Either way Vary keeps Accept and Accept-Language
// whatever the handler did to the field, as without an outer layer.
func TestVaryRegisteredOnOuterWriter(t *testing.T) {
	m := mustNew(t, negotiate.Config{Types: []string{"application/json"}, Languages: []string{"en"}})
	var outer *writer.Writer
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    []string
	}{
		{"handler replaces Vary and writes", func(w http.ResponseWriter, r *http.Request) {
			if w != http.ResponseWriter(outer) {
				t.Errorf("next got %T %p, want the outer Writer %p itself", w, w, outer)
			}
			w.Header().Set("Vary", "Cookie")
			_, _ = w.Write([]byte("{}"))
		}, []string{"Cookie", "Accept", "Accept-Language"}},
		{"handler deletes Vary and commits nothing", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Del("Vary")
		}, []string{"Accept", "Accept-Language"}},
		{"handler sets a status only", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}, []string{"Accept", "Accept-Language"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			outer = new(writer.Writer)
			outer.Reset(rec, nil)
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Accept", "application/json")
			m.Handler(tc.handler).ServeHTTP(outer, r)
			outer.Done()
			if got := slices.Collect(header.Elements(rec.Header()["Vary"])); !slices.Equal(got, tc.want) {
				t.Errorf("Vary = %q, want %q", got, tc.want)
			}
			if got := rec.Header().Get("Content-Language"); got != "en" {
				t.Errorf("Content-Language = %q, want en", got)
			}
		})
	}
}
