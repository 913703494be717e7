package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/elnormous/contenttype"
	"github.com/golang/gddo/httputil"
	"golang.org/x/text/language"

	"github.com/jiec/httpmw/negotiate"
)

// Chrome's navigation Accept header (without signed exchanges), as in
// issue 15, against three offers an API that also renders HTML would have.
const chromeAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"

var acceptOffers = []string{"application/json", "text/html", "text/csv"}

var negotiateSink string

func BenchmarkNegotiateAccept(b *testing.B) {
	for _, tc := range []struct{ name, accept string }{
		{"chrome", chromeAccept},
		{"fetch", "application/json, text/plain, */*"},
		{"any", "*/*"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", tc.accept)
		b.Run("accept="+tc.name+"/lib=httpmw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				negotiateSink, _ = negotiate.MediaType(r, acceptOffers...)
			}
		})
		b.Run("accept="+tc.name+"/lib=gddo", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				negotiateSink = httputil.NegotiateContentType(r, acceptOffers, "")
			}
		})
		available := []contenttype.MediaType{}
		for _, o := range acceptOffers {
			available = append(available, contenttype.NewMediaType(o))
		}
		b.Run("accept="+tc.name+"/lib=contenttype", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				mt, _, _ := contenttype.GetAcceptableMediaType(r, available)
				negotiateSink = mt.Subtype
			}
		})
	}
}

// Accept-Language with five offers. x/text answers with a Confidence that
// must be checked (No means no match); the index of the offer is the answer.
func BenchmarkNegotiateLanguage(b *testing.B) {
	offers := []string{"en", "en-GB", "de", "fr", "es"}
	tags := make([]language.Tag, len(offers))
	for i, o := range offers {
		tags[i] = language.MustParse(o)
	}
	matcher := language.NewMatcher(tags)
	for _, tc := range []struct{ name, al string }{
		{"chrome", "en-US,en;q=0.9,de;q=0.8"},
		{"swiss", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", tc.al)
		b.Run("al="+tc.name+"/lib=httpmw", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				negotiateSink, _ = negotiate.Language(r, offers...)
			}
		})
		b.Run("al="+tc.name+"/lib=x-text", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, i := language.MatchStrings(matcher, r.Header.Get("Accept-Language"))
				negotiateSink = offers[i]
			}
		})
	}
}

// The whole middleware (Accept and Accept-Language, Vary, Content-Language,
// Result in the context) on Chrome's navigation request.
func BenchmarkNegotiateMiddleware(b *testing.B) {
	m, err := negotiate.New(negotiate.Config{Types: acceptOffers, Languages: []string{"en", "en-GB", "de", "fr", "es"}})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		negotiateSink = negotiate.Result(r.Context()).MediaType
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", chromeAccept)
	r.Header.Set("Accept-Language", "en-US,en;q=0.9,de;q=0.8")
	w := &negotiateWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

type negotiateWriter struct{ h http.Header }

func (w *negotiateWriter) Header() http.Header         { return w.h }
func (w *negotiateWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *negotiateWriter) WriteHeader(int)             {}

// TestNegotiatePeersAgainstRFC counts, over the Accept cases of negotiate's
// differential table, how often each peer gives the RFC answer (ours).
func TestNegotiatePeersAgainstRFC(t *testing.T) {
	b, err := os.ReadFile("../negotiate/testdata/differential.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Field  string   `json:"field"`
			Value  *string  `json:"value"`
			Offers []string `json:"offers"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n, gddo, ct := 0, 0, 0
	for _, c := range doc.Cases {
		if c.Field != "Accept" {
			continue
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if c.Value != nil {
			r.Header.Set("Accept", *c.Value)
		}
		want, _ := negotiate.MediaType(r, c.Offers...)
		n++
		if httputil.NegotiateContentType(r, c.Offers, "") == want {
			gddo++
		}
		var available []contenttype.MediaType
		for _, o := range c.Offers {
			available = append(available, contenttype.NewMediaType(o))
		}
		got := ""
		if mt, _, err := contenttype.GetAcceptableMediaType(r, available); err == nil {
			got = mt.String()
		}
		if got == want {
			ct++
		}
	}
	t.Logf("Accept cases: %d; gddo gives the RFC answer in %d, elnormous/contenttype in %d", n, gddo, ct)
}
