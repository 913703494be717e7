package negotiate_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jiec/httpmw/negotiate"
)

func get(h map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

// The example of RFC 9110 §12.5.1, both of its versions.
func TestMediaQualityMostSpecificRangeDecides(t *testing.T) {
	const ex1 = "text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed, text/plain;format=fixed;q=0.4, */*;q=0.5"
	const ex2 = "text/*;q=0.3, text/html;q=0.7, text/html;level=1, text/html;level=2;q=0.4, */*;q=0.5"
	for _, tt := range []struct {
		accept, offer string
		q             int
	}{
		{ex1, "text/plain;format=flowed", 1000},
		{ex1, "text/plain", 700},
		{ex1, "text/html", 300},
		{ex1, "image/jpeg", 500},
		{ex1, "text/plain;format=fixed", 400},
		{ex1, "text/html;level=3", 300},
		{ex2, "text/html;level=1", 1000},
		{ex2, "text/html", 700},
		{ex2, "text/plain", 300},
		{ex2, "image/jpeg", 500},
		{ex2, "text/html;level=2", 400},
		{ex2, "text/html;level=3", 700},
		{"text/html;LEVEL=\"1\"", "text/html;level=1", 1000},
		{"text/*, text/html;q=0", "text/html", 0},
		{"*/*;q=0.1, TEXT/HTML;q=0.9", "text/html", 900},
		{"text/html;q=0.5;ext=1", "text/html", 500},
		{"text/html;q=0.5, text/html;q=0.8", "text/html", 800},
	} {
		q, ok := negotiate.MediaQuality(tt.accept, tt.offer)
		if !ok || q != tt.q {
			t.Errorf("Accept %q, offer %q: q=%d (matched %v), want %d", tt.accept, tt.offer, q, ok, tt.q)
		}
	}
	if _, ok := negotiate.MediaQuality("text/html;level=1", "text/html"); ok {
		t.Error("a range with a parameter matched an offer without it")
	}
}

func TestLanguageLookupAndFiltering(t *testing.T) {
	for _, tt := range []struct {
		al, offer  string
		lookupOnly bool
		q          int
		ok         bool
	}{
		{"zh-Hant-TW", "zh-Hant", false, 1000, true},
		{"zh-Hant-TW", "zh", false, 1000, true},
		{"zh-Hant-TW", "zh-Hans", false, 0, false},
		{"en", "en-GB", false, 1000, true},
		{"en", "en-GB", true, 0, false},
		{"en-GB;q=0.5", "en", true, 500, true},
		{"EN-gb", "en-GB", true, 1000, true},
		{"en;q=0", "en-GB", true, 0, true}, // q=0 always excludes by prefix
		{"*;q=0.2, en-US;q=0", "en-GB", false, 200, true},
		{"en, en-GB;q=0", "en-GB", false, 0, true},
		{"eng", "en", false, 0, false},
		{"en_GB", "en", false, 0, false},
	} {
		q, ok := negotiate.LanguageQuality(tt.al, tt.offer, tt.lookupOnly)
		if q != tt.q || ok != tt.ok {
			t.Errorf("Accept-Language %q, offer %q (lookupOnly %v): q=%d matched %v, want %d %v", tt.al, tt.offer, tt.lookupOnly, q, ok, tt.q, tt.ok)
		}
	}
}

func TestStandaloneFunctions(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fn     func(*http.Request, ...string) (string, bool)
		field  string
		value  string // "-" for absent
		offers []string
		want   string
		ok     bool
	}{
		{"MediaTypeMissingHeaderGivesFirstOffer", negotiate.MediaType, "Accept", "-", []string{"application/json", "text/html"}, "application/json", true},
		{"MediaTypeSkipsMalformedOffers", negotiate.MediaType, "Accept", "-", []string{"text/*", "bad", "text/html"}, "text/html", true},
		{"MediaTypeNoOffers", negotiate.MediaType, "Accept", "*/*", nil, "", false},
		{"MediaTypeTieGoesToExplicitRange", negotiate.MediaType, "Accept", "application/json, text/plain, */*", []string{"text/html", "application/json"}, "application/json", true},
		{"MediaTypeTieGoesToServerOrder", negotiate.MediaType, "Accept", "text/html, application/json", []string{"application/json", "text/html"}, "application/json", true},
		{"MediaTypeNotAcceptable", negotiate.MediaType, "Accept", "image/*", []string{"application/json", "text/html"}, "", false},
		{"MediaTypeQZeroExcludes", negotiate.MediaType, "Accept", "*/*, application/json;q=0", []string{"application/json", "text/html"}, "text/html", true},
		{"MediaTypeInvalidQSkipsElement", negotiate.MediaType, "Accept", "application/json;q=2, text/html;q=0.5", []string{"application/json", "text/html"}, "text/html", true},
		{"MediaTypeOfferParameters", negotiate.MediaType, "Accept", "text/csv;header=present", []string{"text/csv", "text/csv;header=present"}, "text/csv;header=present", true},
		{"MediaTypeOversizedFieldIgnored", negotiate.MediaType, "Accept", "image/png," + strings.Repeat(" ", 9000), []string{"text/html"}, "text/html", true},
		{"LanguageLookup", negotiate.Language, "Accept-Language", "zh-Hant-TW, en;q=0.5", []string{"en", "zh-Hant"}, "zh-Hant", true},
		{"LanguageSkipsMalformedOffers", negotiate.Language, "Accept-Language", "-", []string{"en_GB", "fr"}, "fr", true},
		{"LanguageNotAcceptable", negotiate.Language, "Accept-Language", "de", []string{"en", "fr"}, "", false},
		{"CharsetStar", negotiate.Charset, "Accept-Charset", "iso-8859-1, *;q=0.5", []string{"utf-8", "iso-8859-1"}, "iso-8859-1", true},
		{"CharsetCaseInsensitive", negotiate.Charset, "Accept-Charset", "UTF-8", []string{"iso-8859-1", "utf-8"}, "utf-8", true},
		{"CharsetNotAcceptable", negotiate.Charset, "Accept-Charset", "*;q=0", []string{"utf-8"}, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(nil)
			if tt.value != "-" {
				r.Header.Set(tt.field, tt.value)
			}
			got, ok := tt.fn(r, tt.offers...)
			if got != tt.want || ok != tt.ok {
				t.Errorf("%s %q, offers %q = %q, %v; want %q, %v", tt.field, tt.value, tt.offers, got, ok, tt.want, tt.ok)
			}
		})
	}
	if got, ok := negotiate.MediaType(nil, "text/html"); got != "text/html" || !ok {
		t.Errorf("MediaType(nil request) = %q, %v", got, ok)
	}
}

func TestMediaTypeManyOffersAndRepeatedLines(t *testing.T) {
	var offers []string
	for _, s := range strings.Fields("a b c d e f g h i j k l m n o p q r s t") {
		offers = append(offers, "application/"+s)
	}
	r := get(nil)
	r.Header["Accept"] = []string{"application/x;q=0.1", "application/t, */*;q=0.2"}
	if got, ok := negotiate.MediaType(r, offers...); got != "application/t" || !ok {
		t.Errorf("20 offers, two field lines: %q, %v; want application/t", got, ok)
	}
}

// Only the first 128 elements are read.
func TestMediaTypeReadsAtMost128Elements(t *testing.T) {
	v := strings.Repeat("image/png, ", 128) + "text/html"
	if got, ok := negotiate.MediaType(get(map[string]string{"Accept": v}), "text/html"); ok {
		t.Errorf("element 129 was read: %q", got)
	}
	v = strings.Repeat("image/png, ", 127) + "text/html"
	if got, ok := negotiate.MediaType(get(map[string]string{"Accept": v}), "text/html"); !ok {
		t.Errorf("element 128 was not read: %q", got)
	}
}

func TestNegotiationDoesNotAllocate(t *testing.T) {
	r := get(map[string]string{
		"Accept":          chromeAccept,
		"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5",
		"Accept-Charset":  "utf-8, iso-8859-1;q=0.5",
	})
	for name, f := range map[string]func(){
		"MediaType": func() { sinkString, _ = negotiate.MediaType(r, "application/json", "text/html", "text/csv") },
		"Language":  func() { sinkString, _ = negotiate.Language(r, "en", "en-GB", "de", "fr", "es") },
		"Charset":   func() { sinkString, _ = negotiate.Charset(r, "utf-8", "iso-8859-1") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

// hostileAccepts are fields at the 8 KiB cap built to make matching work
// hard: many elements, many parameters, long quoted strings.
var hostileAccepts = []string{
	strings.Repeat("text/html;a=1;b=2;c=3;d=4;level=1;q=0.5, ", 8000/41),
	"text/html" + strings.Repeat(";level=1", 8000/8),
	strings.Repeat(",", 8000) + "text/html",
	`text/html;a="` + strings.Repeat(`\"`, 3990) + `"`,
	strings.Repeat("*/*;q=0.001,", 8000/12),
}

func TestHostileAcceptIsBoundedAndDoesNotAllocate(t *testing.T) {
	offers := []string{"text/html;level=1;a=1;b=2;c=3;d=4", "text/html", "application/json", "text/csv;header=present"}
	for i, v := range hostileAccepts {
		if len(v) > 8<<10 {
			t.Fatalf("hostile field %d is %d bytes, over the cap", i, len(v))
		}
		r := get(map[string]string{"Accept": v})
		if n := testing.AllocsPerRun(20, func() { sinkString, _ = negotiate.MediaType(r, offers...) }); n != 0 {
			t.Errorf("hostile field %d: %v allocations", i, n)
		}
	}
}

func BenchmarkMediaTypeHostile(b *testing.B) {
	offers := []string{"text/html;level=1;a=1;b=2;c=3;d=4", "text/html", "application/json", "text/csv;header=present"}
	for i, v := range hostileAccepts {
		r := get(map[string]string{"Accept": v})
		b.Run(fmt.Sprintf("field=%d", i), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString, _ = negotiate.MediaType(r, offers...)
			}
		})
	}
}
