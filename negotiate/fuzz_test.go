package negotiate_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jiec/httpmw/negotiate"
)

// seedFuzz adds the differential table's cases of field as seeds.
func seedFuzz(f *testing.F, field string) {
	for _, c := range loadDifferential(f) {
		if c.Field == field && c.Value != nil {
			f.Add(*c.Value, strings.Join(c.Offers, "|"))
		}
	}
}

// fuzzNegotiation checks that the answer is always one of the offers, that
// no offer is chosen when nothing is acceptable, and that the middleware
// agrees with the standalone function.
func fuzzNegotiation(t *testing.T, field, value, offerList string, fn func(*http.Request, ...string) (string, bool), cfg func([]string) negotiate.Config) {
	offers := strings.Split(offerList, "|")
	if len(offers) > 40 {
		offers = offers[:40]
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header[field] = strings.Split(value, "\n")
	got, ok := fn(r, offers...)
	if ok != (got != "" && slices.Contains(offers, got)) {
		t.Fatalf("%s %q, offers %q: %q, %v: not one of the offers", field, value, offers, got, ok)
	}
	m, err := negotiate.New(cfg(offers))
	if err != nil {
		return // malformed or duplicate offers
	}
	var c negotiate.Choice
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c = negotiate.Result(r.Context())
	})).ServeHTTP(rec, r)
	mw := c.MediaType + c.Language + c.Charset
	if (rec.Code == http.StatusNotAcceptable) == ok || (ok && mw != got) {
		t.Fatalf("%s %q, offers %q: standalone %q %v, middleware %q status %d", field, value, offers, got, ok, mw, rec.Code)
	}
}

func FuzzMediaType(f *testing.F) {
	seedFuzz(f, "Accept")
	f.Fuzz(func(t *testing.T, value, offers string) {
		fuzzNegotiation(t, "Accept", value, offers, negotiate.MediaType, func(o []string) negotiate.Config { return negotiate.Config{Types: o} })
	})
}

func FuzzLanguage(f *testing.F) {
	seedFuzz(f, "Accept-Language")
	f.Fuzz(func(t *testing.T, value, offers string) {
		fuzzNegotiation(t, "Accept-Language", value, offers, negotiate.Language, func(o []string) negotiate.Config { return negotiate.Config{Languages: o} })
	})
}

func FuzzCharset(f *testing.F) {
	seedFuzz(f, "Accept-Charset")
	f.Fuzz(func(t *testing.T, value, offers string) {
		fuzzNegotiation(t, "Accept-Charset", value, offers, negotiate.Charset, func(o []string) negotiate.Config { return negotiate.Config{Charsets: o} })
	})
}
