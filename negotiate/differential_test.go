package negotiate_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/jiec/httpmw/negotiate"
)

// differentialCase is one row of testdata/differential.json, written by
// scripts/negotiator/generate.js from npm negotiator 1.1.0.
type differentialCase struct {
	Field      string   `json:"field"`
	Value      *string  `json:"value"` // nil: field absent
	Offers     []string `json:"offers"`
	Negotiator *string  `json:"negotiator"` // nil: nothing acceptable
	RFC        *string  `json:"rfc"`        // set where the RFC answer differs
	Why        string   `json:"why"`
}

func loadDifferential(t testing.TB) []differentialCase {
	t.Helper()
	b, err := os.ReadFile("testdata/differential.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Negotiator string             `json:"negotiator"`
		Cases      []differentialCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Negotiator != "1.1.0" || len(doc.Cases) < 150 {
		t.Fatalf("differential table from negotiator %q with %d cases, want 1.1.0 and at least 150", doc.Negotiator, len(doc.Cases))
	}
	return doc.Cases
}

func str(p *string) string {
	if p == nil {
		return "<none>"
	}
	return *p
}

func (c *differentialCase) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if c.Value != nil {
		r.Header.Set(c.Field, *c.Value)
	}
	return r
}

// TestDifferentialAgainstNegotiator asserts the RFC answer for every case of
// the differential table: negotiator's, except where the table marks (and
// explains) a disagreement. A marked case must really disagree.
func TestDifferentialAgainstNegotiator(t *testing.T) {
	disagreements := 0
	for _, c := range loadDifferential(t) {
		want := c.Negotiator
		if c.Why != "" {
			disagreements++
			if str(c.RFC) == str(c.Negotiator) {
				t.Errorf("%s: %s, offers %q: marked as a disagreement but negotiator agrees (%s)", c.Field, str(c.Value), c.Offers, str(c.Negotiator))
			}
			want = c.RFC
		}
		var got string
		var ok bool
		r := c.request()
		switch c.Field {
		case "Accept":
			got, ok = negotiate.MediaType(r, c.Offers...)
		case "Accept-Language":
			got, ok = negotiate.Language(r, c.Offers...)
		case "Accept-Charset":
			got, ok = negotiate.Charset(r, c.Offers...)
		default:
			t.Fatalf("unknown field %q", c.Field)
		}
		gotp := &got
		if !ok {
			gotp = nil
		}
		if str(gotp) != str(want) {
			t.Errorf("%s: %s, offers %q: got %s, want %s (negotiator %s)", c.Field, str(c.Value), c.Offers, str(gotp), str(want), str(c.Negotiator))
		}
		// The middleware agrees with the standalone function.
		var cfg negotiate.Config
		switch c.Field {
		case "Accept":
			cfg.Types = c.Offers
		case "Accept-Language":
			cfg.Languages = c.Offers
		default:
			cfg.Charsets = c.Offers
		}
		m, err := negotiate.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var res negotiate.Choice
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res = negotiate.Result(r.Context())
		})).ServeHTTP(rec, c.request())
		mw := res.MediaType + res.Language + res.Charset
		if rec.Code == http.StatusNotAcceptable {
			mw = "<none>"
		}
		if mw != str(want) {
			t.Errorf("middleware %s: %s, offers %q: got %s (status %d), want %s", c.Field, str(c.Value), c.Offers, mw, rec.Code, str(want))
		}
	}
	t.Logf("%d disagreements with negotiator marked", disagreements)
}
