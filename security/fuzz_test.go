package security_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jiec/httpmw/security"
)

// FuzzParseForwardedProto checks the proxy-header parsers: no panic, a result
// that came from the input, and the same answer whether list elements arrive
// on one line or several (RFC 9110 §5.3).
func FuzzParseForwardedProto(f *testing.F) {
	for _, s := range []string{
		"proto=https", `for=192.0.2.60;proto=http;by=203.0.113.43`, `for="[2001:db8::2]:80";proto="https"`,
		"proto=https, for=10.0.0.9;proto=http", "proto=https;proto=https", "proto=https;for", `proto="ht\"tps"`,
		"https, http", ",,,https", "",
	} {
		f.Add(s, "proto=https")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		values := []string{a, b}
		p := security.ForwardedProto(values)
		if p != "" && !strings.Contains(strings.ToLower(a+b), strings.ToLower(strings.ReplaceAll(p, `\`, ""))) &&
			!strings.Contains(a+b, `\`) {
			t.Fatalf("proto %q not in the input %q", p, values)
		}
		last := security.LastElement(values)
		if !strings.Contains(a+b, last) {
			t.Fatalf("last element %q not in the input %q", last, values)
		}
		// Whatever a client wrote (a), the element a trusted proxy appended
		// for an untrusted client decides (RFC 7239 §5.2).
		if len(a) < 4<<10 {
			if got := security.ForwardedProto([]string{a, "for=192.0.2.1;proto=http"}, "10.0.0.0/8"); got != "http" {
				t.Fatalf("client-written %q overrode the proxy's element: proto %q", a, got)
			}
		}
		if strings.ContainsAny(a+b, `"\`) || len(a)+len(b)+1 > 8<<10 {
			return // quoted strings may span the joining comma
		}
		joined := []string{a + "," + b}
		if got := security.ForwardedProto(joined); got != p {
			t.Fatalf("ForwardedProto: %q on two lines, %q joined", p, got)
		}
		if got := security.LastElement(joined); got != last {
			t.Fatalf("LastElement: %q on two lines, %q joined", last, got)
		}
	})
}

// FuzzParseRedirectHost: whatever the Host and path, the redirect goes to an
// allowed host over https, or the request is refused.
func FuzzParseRedirectHost(f *testing.F) {
	for _, s := range [][2]string{
		{"example.com", "/"}, {"EXAMPLE.COM.:80", "/a?b"}, {"evil.example", "/"}, {"example.com@evil.example", "/"},
		{"example.com:80@evil", "/"}, {"[::1]:80", "/"}, {"example.com", "//evil.example/"}, {"example.com:", "/"},
		{"example.com:8x", "/"}, {"example.com\r\nX: y", "/"},
	} {
		f.Add(s[0], s[1])
	}
	m, err := security.New(security.Config{RedirectHosts: []string{"example.com", "::1"}})
	if err != nil {
		f.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	f.Fuzz(func(t *testing.T, host, path string) {
		u, err := url.Parse("http://x" + path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		r := httptest.NewRequest("GET", "http://x/", nil)
		r.URL, r.RequestURI, r.Host = u, u.RequestURI(), host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		switch rec.Code {
		case http.StatusMisdirectedRequest:
		case http.StatusMovedPermanently:
			loc := rec.Header().Get("Location")
			lu, err := url.Parse(loc)
			if err != nil || lu.Scheme != "https" || (lu.Hostname() != "example.com" && lu.Hostname() != "::1") || lu.User != nil {
				t.Fatalf("Host %q path %q redirected to %q", host, path, loc)
			}
			if strings.ContainsAny(loc, "\r\n") {
				t.Fatalf("Location %q has a line break", loc)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// FuzzParsePolicy: New never panics on arbitrary directives, and an accepted
// policy renders as exactly the directives it was given, in a valid field value.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range [][3]string{
		{"script-src", "'self'", "https://a.example"}, {"img-src", "data:", "*.example.com"},
		{"script-src", "'nonce'", "'strict-dynamic'"}, {"script-src", "self", ""}, {"report-to", "x", ""},
		{"sandbox", "allow-forms", ""}, {"style-src", "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='", "'unsafe-inline'"},
		{"frame-ancestors", "'self'", "https://p.example:*"}, {"img-src", "a;b", ","},
		{"report-uri", "javascript:alert(1)", "/r"}, {"report-uri", "https://r.example/csp", "csp"}, {"report-uri", "//evil.example", "HTTPS://R.example"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, name, v1, v2 string) {
		p := security.DefaultPolicy().Set(name, v1, v2)
		m, err := security.New(security.Config{CSP: p, CSPReportOnly: security.Policy{}.Set(name, v1)})
		if err != nil {
			return
		}
		if strings.EqualFold(name, security.ReportURI) {
			for _, v := range []string{v1, v2} {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") || strings.HasPrefix(v, "//") {
					t.Fatalf("report-uri %q accepted", v)
				}
			}
		}
		rec := httptest.NewRecorder()
		m.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		csp := rec.Header().Get("Content-Security-Policy")
		if n := len(strings.Split(csp, ";")); n != len(p.Directives()) {
			t.Fatalf("%q: %d directives, want %d", csp, n, len(p.Directives()))
		}
		for i := 0; i < len(csp); i++ {
			if c := csp[i]; c < ' ' || c >= 0x7f || c == ',' {
				t.Fatalf("%q: byte %q in the field value", csp, c)
			}
		}
	})
}
