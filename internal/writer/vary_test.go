package writer_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/internal/writer"
)

// varyLayer is a middleware with a Vary dimension: with own, it always
// wraps with its own Writer; else it registers on the httpmw Writer outside
// when there is one (writer.Vary), as cors and compress do.
func varyLayer(names []string, own bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if !own && writer.Vary(rw, names) {
				next.ServeHTTP(rw, r)
				return
			}
			w := writer.New(rw, nil)
			w.Vary(names)
			next.ServeHTTP(w, r)
			w.Done()
		})
	}
}

var (
	varyOrigin = []string{"Origin"}
	varyAE     = []string{"Accept-Encoding"}
)

// varyChains put an Origin layer outside an Accept-Encoding layer: each with
// its own Writer, the inner one registered on the outer's, and the same with
// a layer between them that holds the status (as cache and compress do).
var varyChains = []struct {
	name string
	wrap func(http.Handler) http.Handler
}{
	{"own Writers", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, true))},
	{"registered outside", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, false))},
	{"through a holder", chain(varyLayer(varyOrigin, true), holdMW, varyLayer(varyAE, false))},
	{"holder inside", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, false), holdMW)},
}

var varyCases = []struct {
	desc string
	h    http.HandlerFunc
	want []string // Vary tokens, each once, lower case, sorted
}{
	{"Set replaces the field", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "Accept")
		_, _ = io.WriteString(w, "x")
	}, []string{"accept", "accept-encoding", "origin"}},
	{"Add repeats a layer's dimension", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Vary", "accept-encoding")
		w.Header().Add("Vary", "ORIGIN, Cookie, cookie")
		w.WriteHeader(http.StatusCreated)
	}, []string{"accept-encoding", "cookie", "origin"}},
	{"non-canonical key", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["vary"] = []string{"Accept-Language"}
		_, _ = io.WriteString(w, "x")
	}, []string{"accept-encoding", "accept-language", "origin"}},
	{"Del removes the field", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Del("Vary")
		_, _ = io.WriteString(w, "x")
	}, []string{"accept-encoding", "origin"}},
	{"* stands alone", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "*")
		_, _ = io.WriteString(w, "x")
	}, []string{"*"}},
	{"* in a list stands alone", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Vary", "Accept, *")
		_, _ = io.WriteString(w, "x")
	}, []string{"*"}},
	{"nothing committed", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "Accept")
	}, []string{"accept", "accept-encoding", "origin"}},
	{"304", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", "Accept")
		w.WriteHeader(http.StatusNotModified)
	}, []string{"accept", "accept-encoding", "origin"}},
	{"Set after the status is not sent", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "x")
		w.Header().Set("Vary", "Late")
	}, []string{"accept-encoding", "origin"}},
	{"Flush commits", func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Vary"] = []string{"Accept", "accept"}
		w.(http.Flusher).Flush()
	}, []string{"accept", "accept-encoding", "origin"}},
}

// varyTokens returns the Vary tokens of h, lower case, sorted; duplicates kept.
func varyTokens(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Vary") {
		for e := range strings.SplitSeq(line, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestVaryDimensionsSurviveTheHandler: whatever the handler does to Vary, the
// client gets every layer's dimension once, and "*" alone (RFC 9110
// §12.5.5), over HTTP/1.1 and HTTP/2.
func TestVaryDimensionsSurviveTheHandler(t *testing.T) {
	for _, p := range protos {
		for _, vc := range varyChains {
			for _, tc := range varyCases {
				t.Run(p.name+"/"+vc.name+"/"+tc.desc, func(t *testing.T) {
					ts := httptest.NewUnstartedServer(vc.wrap(tc.h))
					ts.EnableHTTP2 = p.h2
					ts.StartTLS()
					defer ts.Close()
					c := ts.Client()
					c.Timeout = 10 * time.Second
					res, err := c.Get(ts.URL)
					if err != nil {
						t.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if got := varyTokens(res.Header); !slices.Equal(got, tc.want) {
						t.Errorf("Vary %q: tokens %q, want %q", res.Header.Values("Vary"), got, tc.want)
					}
					// Token lists make one line (RFC 9110 §5.3).
					if n := len(res.Header.Values("Vary")); n != 1 {
						t.Errorf("Vary %q: %d lines, want 1", res.Header.Values("Vary"), n)
					}
				})
			}
		}
	}
}

// TestVaryMalformedLineNotJoined: a handler's Vary line with a malformed
// member is sent as it is, and the layers' names each get a line of their
// own, so that joining never changes how the members split.
func TestVaryMalformedLineNotJoined(t *testing.T) {
	const bad = `Cookie, "x`
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Vary", bad)
		_, _ = io.WriteString(w, "x")
	})
	for _, vc := range varyChains {
		t.Run(vc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			vc.wrap(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			got := rec.Header()["Vary"]
			rest := slices.Clone(got[1:])
			slices.Sort(rest)
			if got[0] != bad || !slices.Equal(rest, []string{"Accept-Encoding", "Origin"}) {
				t.Errorf("Vary %q, want %q then one line per layer", got, bad)
			}
		})
	}
}

// TestVaryLayersMakeOneLine: the wire form of layered registrations, the
// inner Writer's names first (it commits first), a handler's own line
// leading; case-insensitive duplicates are not added.
func TestVaryLayersMakeOneLine(t *testing.T) {
	for _, tc := range []struct {
		desc string
		wrap func(http.Handler) http.Handler
		vary []string // the handler's Vary lines, nil for none
		want []string
	}{
		{"own Writers", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, true)), nil, []string{"Accept-Encoding, Origin"}},
		{"registered outside", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, false)), nil, []string{"Origin, Accept-Encoding"}},
		{"handler's line leads", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, false)), []string{"Cookie"}, []string{"Cookie, Origin, Accept-Encoding"}},
		{"handler's lines joined", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, true)), []string{"Cookie", "Accept"}, []string{"Cookie, Accept, Accept-Encoding, Origin"}},
		{"duplicates in another case", chain(varyLayer(varyOrigin, true), varyLayer(varyAE, false)), []string{"origin", "ACCEPT-ENCODING"}, []string{"origin, ACCEPT-ENCODING"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.vary != nil {
					w.Header()["Vary"] = slices.Clone(tc.vary)
				}
				_, _ = io.WriteString(w, "x")
			})
			rec := httptest.NewRecorder()
			tc.wrap(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if got := rec.Header()["Vary"]; !slices.Equal(got, tc.want) {
				t.Errorf("Vary %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLateHeadersAndTrailers: after the status, header changes never reach
// the client, as with a bare net/http writer, also when a layer holds the
// status; declared trailers and http.TrailerPrefix keys arrive as trailers
// only.
func TestLateHeadersAndTrailers(t *testing.T) {
	h := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set("X-Early", "1")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "body")
		w.Header().Set("X-Late", "1")
		w.Header()["X-Early"][0] = "edited in place"
		w.Header().Set("X-Sum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Extra", "def")
	}
	forEachHolding(t, h, func(t *testing.T, res *http.Response, body string) {
		if body != "body" {
			t.Errorf("body %q", body)
		}
		if res.Header.Get("X-Early") != "1" || res.Header.Get("X-Late") != "" || res.Header.Get("X-Sum") != "" {
			t.Errorf("header X-Early=%q X-Late=%q X-Sum=%q, want 1, none, none", res.Header.Get("X-Early"), res.Header.Get("X-Late"), res.Header.Get("X-Sum"))
		}
		if res.Trailer.Get("X-Sum") != "abc" || res.Trailer.Get("X-Extra") != "def" {
			t.Errorf("trailers %v, want X-Sum: abc and X-Extra: def", res.Trailer)
		}
	})
}

// forEachHolding runs test against h served bare, through an observer,
// through a holder, and through a holder under an observer, over both
// protocols (the body read first, so that trailers are in).
func forEachHolding(t *testing.T, h http.HandlerFunc, test func(t *testing.T, res *http.Response, body string)) {
	t.Helper()
	wraps := []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"bare", func(h http.Handler) http.Handler { return h }},
		{"observer", observe(nil)},
		{"holder", holdMW},
		{"observer>holder>observer", chain(observe(nil), holdMW, observe(nil))},
	}
	for _, p := range protos {
		for _, wr := range wraps {
			t.Run(p.name+"/"+wr.name, func(t *testing.T) {
				ts := httptest.NewUnstartedServer(wr.wrap(h))
				ts.EnableHTTP2 = p.h2
				ts.StartTLS()
				defer ts.Close()
				c := ts.Client()
				c.Timeout = 10 * time.Second
				res, err := c.Get(ts.URL)
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				test(t, res, string(b))
			})
		}
	}
}
