package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/elnormous/contenttype"
	"github.com/golang/gddo/httputil"
	"golang.org/x/text/language"

	"github.com/jiec/httpmw/cors"
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

// BenchmarkNegotiatePaired measures each negotiation and its peers in
// alternation, 200 calls at a time, and reports the median of the paired
// ratios (ours / peer) and each one's 10th-percentile time per call. On a
// loaded machine absolute times drift by several times within seconds;
// ratios of neighbouring slices of time do not. The cors preflight, 68 ns on
// an idle machine of this kind (see the cors section), calibrates the
// absolute figures. Run it with -benchtime 300x.
func BenchmarkNegotiatePaired(b *testing.B) {
	co, _ := cors.New(cors.Config{Origins: []string{"https://example.com"}, Methods: []string{"PUT"}, RequestHeaders: []string{"X-A", "X-B"}})
	ch := co.Handler(http.NotFoundHandler())
	pre := httptest.NewRequest("OPTIONS", "/", nil)
	pre.Header.Set("Origin", "https://example.com")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	cw := &negotiateWriter{h: http.Header{}}
	mk := func(k, v string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(k, v)
		return r
	}
	rc, rf, ra := mk("Accept", chromeAccept), mk("Accept", "application/json, text/plain, */*"), mk("Accept", "*/*")
	var av []contenttype.MediaType
	for _, o := range acceptOffers {
		av = append(av, contenttype.NewMediaType(o))
	}
	loffers := []string{"en", "en-GB", "de", "fr", "es"}
	var tags []language.Tag
	for _, o := range loffers {
		tags = append(tags, language.MustParse(o))
	}
	matcher := language.NewMatcher(tags)
	lc, ls := mk("Accept-Language", "en-US,en;q=0.9,de;q=0.8"), mk("Accept-Language", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")
	m, _ := negotiate.New(negotiate.Config{Types: acceptOffers, Languages: loffers})
	mh := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { negotiateSink = negotiate.Result(r.Context()).MediaType }))
	mr := mk("Accept", chromeAccept)
	mr.Header.Set("Accept-Language", "en-US,en;q=0.9,de;q=0.8")
	fns := []struct {
		name string
		f    func()
	}{
		{"cors-preflight", func() { clear(cw.h); ch.ServeHTTP(cw, pre) }},
		{"chrome/httpmw", func() { negotiateSink, _ = negotiate.MediaType(rc, acceptOffers...) }},
		{"chrome/gddo", func() { negotiateSink = httputil.NegotiateContentType(rc, acceptOffers, "") }},
		{"chrome/contenttype", func() { x, _, _ := contenttype.GetAcceptableMediaType(rc, av); negotiateSink = x.Subtype }},
		{"fetch/httpmw", func() { negotiateSink, _ = negotiate.MediaType(rf, acceptOffers...) }},
		{"fetch/gddo", func() { negotiateSink = httputil.NegotiateContentType(rf, acceptOffers, "") }},
		{"fetch/contenttype", func() { x, _, _ := contenttype.GetAcceptableMediaType(rf, av); negotiateSink = x.Subtype }},
		{"any/httpmw", func() { negotiateSink, _ = negotiate.MediaType(ra, acceptOffers...) }},
		{"any/gddo", func() { negotiateSink = httputil.NegotiateContentType(ra, acceptOffers, "") }},
		{"any/contenttype", func() { x, _, _ := contenttype.GetAcceptableMediaType(ra, av); negotiateSink = x.Subtype }},
		{"lang-chrome/httpmw", func() { negotiateSink, _ = negotiate.Language(lc, loffers...) }},
		{"lang-chrome/x-text", func() {
			_, i := language.MatchStrings(matcher, lc.Header.Get("Accept-Language"))
			negotiateSink = loffers[i]
		}},
		{"lang-swiss/httpmw", func() { negotiateSink, _ = negotiate.Language(ls, loffers...) }},
		{"lang-swiss/x-text", func() {
			_, i := language.MatchStrings(matcher, ls.Header.Get("Accept-Language"))
			negotiateSink = loffers[i]
		}},
		{"middleware", func() { clear(cw.h); mh.ServeHTTP(cw, mr) }},
	}
	res := make([][]float64, len(fns))
	b.ReportAllocs()
	for b.Loop() {
		for i, f := range fns {
			const n = 200
			t0 := time.Now()
			for range n {
				f.f()
			}
			res[i] = append(res[i], float64(time.Since(t0).Nanoseconds())/n)
		}
	}
	for i, f := range fns {
		v := slices.Clone(res[i])
		slices.Sort(v)
		b.ReportMetric(v[len(v)/10], f.name+"-p10-ns")
	}
	ratio := func(a, b int) float64 {
		var r []float64
		for k := range res[a] {
			r = append(r, res[a][k]/res[b][k])
		}
		slices.Sort(r)
		return r[len(r)/2]
	}
	for _, p := range [][2]int{{1, 2}, {1, 3}, {4, 5}, {4, 6}, {7, 8}, {7, 9}, {10, 11}, {12, 13}, {1, 0}} {
		b.ReportMetric(ratio(p[0], p[1]), fns[p[0]].name+"/"+fns[p[1]].name)
	}
}
