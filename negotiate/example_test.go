package negotiate_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/jiec/httpmw/negotiate"
)

// One handler serves JSON, HTML or CSV, whichever the client prefers.
func ExampleNew() {
	neg, err := negotiate.New(negotiate.Config{
		Types: []string{"application/json", "text/html", "text/csv"},
	})
	if err != nil {
		panic(err)
	}
	rows := [][]string{{"id", "name"}, {"1", "Ada"}}
	report := neg.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt := negotiate.Result(r.Context()).MediaType
		w.Header().Set("Content-Type", mt+"; charset=utf-8")
		switch mt {
		case "application/json":
			_ = json.NewEncoder(w).Encode(rows)
		case "text/html":
			fmt.Fprintf(w, "<table><tr><td>%s</td></tr></table>\n", html.EscapeString(rows[1][1]))
		case "text/csv":
			_ = csv.NewWriter(w).WriteAll(rows)
		}
	}))
	for _, accept := range []string{"application/json", "text/html,*/*;q=0.8", "text/csv", "image/png"} {
		r := httptest.NewRequest(http.MethodGet, "/report", nil)
		r.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		report.ServeHTTP(rec, r)
		fmt.Printf("%s → %d %s (Vary: %s)\n%s", accept, rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Vary"), rec.Body)
	}
	// Output:
	// application/json → 200 application/json; charset=utf-8 (Vary: Accept)
	// [["id","name"],["1","Ada"]]
	// text/html,*/*;q=0.8 → 200 text/html; charset=utf-8 (Vary: Accept)
	// <table><tr><td>Ada</td></tr></table>
	// text/csv → 200 text/csv; charset=utf-8 (Vary: Accept)
	// id,name
	// 1,Ada
	// image/png → 406 application/problem+json (Vary: Accept)
	// {"available":{"types":["application/json","text/html","text/csv"]},"detail":"None of the available representations matches the request's Accept, Accept-Language or Accept-Charset fields.","status":406,"title":"Not Acceptable","type":"about:blank"}
}

// A localized page: Content-Language is set to the negotiated language.
func ExampleConfig_languages() {
	neg, _ := negotiate.New(negotiate.Config{
		Languages: []string{"en", "fr", "zh-Hant"},
		Fallback:  true, // unknown languages get English rather than 406
	})
	greetings := map[string]string{"en": "Hello", "fr": "Bonjour", "zh-Hant": "你好"}
	page := neg.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, greetings[negotiate.Result(r.Context()).Language])
	}))
	for _, al := range []string{"fr-CH, fr;q=0.9, en;q=0.8", "zh-Hant-TW", "en-GB", "de"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Language", al)
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, r)
		fmt.Printf("%-26s → Content-Language: %-7s %s", al, rec.Header().Get("Content-Language"), rec.Body)
	}
	// Output:
	// fr-CH, fr;q=0.9, en;q=0.8  → Content-Language: fr      Bonjour
	// zh-Hant-TW                 → Content-Language: zh-Hant 你好
	// en-GB                      → Content-Language: en      Hello
	// de                         → Content-Language: en      Hello
}

func ExampleMediaType() {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	mt, ok := negotiate.MediaType(r, "application/json", "text/html")
	fmt.Println(mt, ok)
	// Output: text/html true
}

func ExampleLanguage() {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Language", "zh-Hant-TW, en;q=0.5")
	lang, ok := negotiate.Language(r, "en", "zh-Hant")
	fmt.Println(lang, ok)
	// Output: zh-Hant true
}

func ExampleCharset() {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Charset", "iso-8859-1, utf-8;q=0.5")
	cs, ok := negotiate.Charset(r, "utf-8", "iso-8859-1")
	fmt.Println(cs, ok)
	// Output: iso-8859-1 true
}

func ExampleResult() {
	neg, _ := negotiate.New(negotiate.Config{Types: []string{"application/json"}, Charsets: []string{"utf-8"}})
	h := neg.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%+v\n", negotiate.Result(r.Context()))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	// Output: {MediaType:application/json Language: Charset:utf-8 Fallback:false}
}

// Handlers that answer 406 themselves: an ErrorHandler sees which field failed.
func ExampleConfig_errorHandler() {
	neg, _ := negotiate.New(negotiate.Config{
		Types: []string{"application/json"},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusNotAcceptable)
		},
	})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	neg.Handler(http.NotFoundHandler()).ServeHTTP(rec, r)
	_, _ = os.Stdout.Write(rec.Body.Bytes())
	// Output: negotiate: Accept accepts none of the offers
}
