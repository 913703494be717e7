package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cors"
)

// TestNewRejectsPublicSuffixWildcards: "https://*.github.io" would let
// anyone who registers a GitHub Pages site in (and with Credentials read
// credentialed responses). The base of a wildcard must not be a public suffix
// (Public Suffix List via golang.org/x/net/publicsuffix), with or without
// Credentials, unless DangerouslyAllowPublicSuffixSubdomains is set.
func TestNewRejectsPublicSuffixWildcards(t *testing.T) {
	for _, o := range []string{"https://*.github.io", "https://*.co.uk", "https://*.herokuapp.com", "https://*.s3.amazonaws.com", "https://*.com:8443"} {
		for _, creds := range []bool{true, false} {
			_, err := cors.New(cors.Config{Origins: []string{o}, Credentials: creds})
			if err == nil || !strings.Contains(err.Error(), "public suffix") || !strings.Contains(err.Error(), o) {
				t.Errorf("New(%q, Credentials %t) = %v, want a public-suffix error naming it", o, creds, err)
			}
		}
		m, err := cors.New(cors.Config{Origins: []string{o}, Credentials: true, DangerouslyAllowPublicSuffixSubdomains: true})
		if err != nil {
			t.Errorf("New(%q) with DangerouslyAllowPublicSuffixSubdomains: %v", o, err)
			continue
		}
		if !cors.AllowOrigin(m, strings.Replace(o, "*", "attacker", 1)) {
			t.Errorf("%q with the dangerous flag does not match its subdomains", o)
		}
	}
	for _, o := range []string{"https://*.example.com", "https://*.example.co.uk", "https://*.alice.github.io", "http://*.localhost"} {
		if _, err := cors.New(cors.Config{Origins: []string{o}, Credentials: true}); err != nil {
			t.Errorf("New(%q): %v, want no error (the base is a registrable domain)", o, err)
		}
	}
}

// TestPrivateNetworkWhenNotEnabled: without Config.PrivateNetwork a PNA
// preflight is answered like any other, only without
// Access-Control-Allow-Private-Network, so the browser decides (it may only
// warn).
func TestPrivateNetworkWhenNotEnabled(t *testing.T) {
	const app = "https://app.example.com"
	runCases(t, []requestCase{
		{desc: "PNA preflight without PrivateNetwork gets the CORS headers", cfg: cors.Config{Origins: []string{app}, Methods: []string{"PUT"}}, method: "OPTIONS",
			hdr: []string{"Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Private-Network", "true"}, wantStatus: 204,
			want: map[string]string{"Access-Control-Allow-Origin": app, "Access-Control-Allow-Methods": "PUT", "Vary": preflightVary}},
		{desc: "PNA preflight from a disallowed origin still fails", cfg: cors.Config{Origins: []string{app}}, method: "OPTIONS",
			hdr:        []string{"Origin", "https://evil.com", "Access-Control-Request-Method", "GET", "Access-Control-Request-Private-Network", "true"},
			wantStatus: 403, want: map[string]string{"Vary": preflightVary}},
	})
}

// TestLoopbackPortWildcard: "http://localhost:*" (and the loopback
// addresses) matches any port, and no port; elsewhere a port wildcard needs
// DangerouslyAllowPortWildcards.
func TestLoopbackPortWildcard(t *testing.T) {
	tests := []struct {
		pattern string
		allow   []string
		deny    []string
	}{
		{"http://localhost:*",
			[]string{"http://localhost", "http://localhost:3000", "http://localhost:5173", "http://localhost:65535", "http://localhost:1"},
			[]string{"https://localhost:3000", "http://localhost:", "http://localhost:0", "http://localhost:65536", "http://localhost:030",
				"http://localhost:3000:1", "http://localhost.evil.com:3000", "http://a.localhost:3000", "http://evillocalhost:3000", "http://localhost:3x"}},
		{"http://127.0.0.1:*",
			[]string{"http://127.0.0.1", "http://127.0.0.1:8080"},
			[]string{"http://127.0.0.2:8080", "http://127.0.0.1.evil.com:80", "http://localhost:8080"}},
		{"http://[::1]:*",
			[]string{"http://[::1]", "http://[::1]:8080"},
			[]string{"http://[::1]:", "http://[::2]:8080", "http://[::1]]:80"}},
		{"https://localhost:*", []string{"https://localhost", "https://localhost:8443"}, []string{"http://localhost:8443"}},
	}
	for _, tc := range tests {
		m, err := cors.New(cors.Config{Origins: []string{tc.pattern}, Credentials: true})
		if err != nil {
			t.Errorf("New(%q): %v", tc.pattern, err)
			continue
		}
		for _, o := range tc.allow {
			if !cors.AllowOrigin(m, o) {
				t.Errorf("%q does not allow %q", tc.pattern, o)
			}
		}
		for _, o := range tc.deny {
			if cors.AllowOrigin(m, o) {
				t.Errorf("%q allows %q", tc.pattern, o)
			}
		}
	}
	for _, o := range []string{"https://example.com:*", "http://192.168.1.10:*", "https://*.example.com:*", "http://[::2]:*"} {
		_, err := cors.New(cors.Config{Origins: []string{o}})
		if err == nil || !strings.Contains(err.Error(), "DangerouslyAllowPortWildcards") {
			t.Errorf("New(%q) = %v, want an error naming DangerouslyAllowPortWildcards", o, err)
		}
	}
	m, err := cors.New(cors.Config{Origins: []string{"https://example.com:*", "https://*.example.org:*"}, DangerouslyAllowPortWildcards: true})
	if err != nil {
		t.Fatal(err)
	}
	for o, want := range map[string]bool{
		"https://example.com": true, "https://example.com:8443": true, "https://a.example.org:9000": true, "https://a.example.org": true,
		"https://example.org:9000": false, "https://evilexample.com:1": false, "http://example.com:8443": false,
	} {
		if got := cors.AllowOrigin(m, o); got != want {
			t.Errorf("dangerous port wildcards: AllowOrigin(%q) = %t, want %t", o, got, want)
		}
	}
	rec, _ := serve(m, "GET", "Origin", "https://example.com:8443")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://example.com:8443" {
		t.Errorf("ACAO for a port-wildcard match = %q", got)
	}
}

// TestIPv6OriginsAsBrowsersSerializeThem: the WHATWG URL serializer writes
// IPv4-mapped addresses in hex ("[::ffff:7f00:1]"), not dotted as RFC 5952
// and netip do; the config must be in the form browsers send.
func TestIPv6OriginsAsBrowsersSerializeThem(t *testing.T) {
	m, err := cors.New(cors.Config{Origins: []string{"https://[::ffff:7f00:1]", "https://[2001:db8::1]:8443", "https://[::ffff:c000:201]:8443"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"https://[::ffff:7f00:1]", "https://[2001:db8::1]:8443", "https://[::ffff:c000:201]:8443"} {
		if !cors.AllowOrigin(m, o) {
			t.Errorf("%q not allowed", o)
		}
	}
	for o, want := range map[string]string{
		"https://[::ffff:127.0.0.1]":  "https://[::ffff:7f00:1]",
		"https://[::ffff:192.0.2.1]":  "https://[::ffff:c000:201]",
		"https://[2001:DB8::1]":       "https://[2001:db8::1]",
		"https://[2001:db8:0:0::1]":   "https://[2001:db8::1]",
		"https://[0:0:0:0:0:0:0:1]":   "https://[::1]",
		"https://[2001:db8::0:1:0:1]": "https://[2001:db8::1:0:1]",
	} {
		_, err := cors.New(cors.Config{Origins: []string{o}})
		if err == nil || !strings.Contains(err.Error(), `browsers send "`+want+`"`) {
			t.Errorf("New(%q) = %v, want an error suggesting %q", o, err, want)
		}
	}
	// Secure Contexts: only 127.0.0.0/8 and ::1/128 are loopback; an
	// IPv4-mapped address is not.
	if _, err := cors.New(cors.Config{Origins: []string{"http://[::ffff:7f00:1]:8080"}, Credentials: true}); err == nil || !strings.Contains(err.Error(), "insecure origin") {
		t.Errorf("http://[::ffff:7f00:1]:8080 with Credentials: %v, want the insecure-origin error", err)
	}
}

// TestPreflightAnswersShareNoMemory: an outer layer that edits the values of
// a preflight answer in place (after cors returned) must change neither the
// next preflight's answer nor the request's own headers.
func TestPreflightAnswersShareNoMemory(t *testing.T) {
	const app = "https://app.example.com"
	cfgs := map[string]cors.Config{
		"spa":    {Origins: []string{app}, Credentials: true, Methods: []string{"PUT"}, RequestHeaders: []string{"Content-Type"}, MaxAge: 2 * time.Hour, PrivateNetwork: true},
		"public": {Origins: []string{"*"}, Methods: []string{"*"}, RequestHeaders: []string{"*"}, MaxAge: cors.NoPreflightCache},
	}
	reqs := map[string][]string{
		"allowed": {"Origin", app, "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type", "Access-Control-Request-Private-Network", "true"},
		"failed":  {"Origin", app, "Access-Control-Request-Method", "PURGE"},
	}
	for name, cfg := range cfgs {
		for rname, hdr := range reqs {
			t.Run(name+"/"+rname, func(t *testing.T) {
				m, err := cors.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				h := m.Handler(http.NotFoundHandler())
				run := func(clobber bool) (http.Header, http.Header) {
					r := httptest.NewRequest("OPTIONS", "/", nil)
					for i := 0; i < len(hdr); i += 2 {
						r.Header.Set(hdr[i], hdr[i+1])
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					resp := rec.Header().Clone()
					if clobber { // an outer layer after cors returned
						for _, v := range rec.Header() {
							for i := range v {
								v[i] = "clobbered"
							}
						}
					}
					return resp, r.Header
				}
				first, req := run(true)
				for i := 0; i < len(hdr); i += 2 {
					if got := req.Get(hdr[i]); got != hdr[i+1] {
						t.Errorf("editing the response changed the request's %s to %q", hdr[i], got)
					}
				}
				second, _ := run(false)
				for k := range first {
					if a, b := strings.Join(first[k], ","), strings.Join(second[k], ","); a != b {
						t.Errorf("%s = %q after an outer layer edited the previous answer, want %q", k, b, a)
					}
				}
				for _, v := range second {
					if strings.Contains(strings.Join(v, ","), "clobbered") {
						t.Errorf("second answer carries a clobbered value: %v", second)
						break
					}
				}
			})
		}
	}
}

// TestNewRejectsCaseVariantMethods: methods other than the six Fetch
// normalizes are case-sensitive, so "patch" never matches the PATCH that
// fetch(…, {method: "PATCH"}) sends: a typo, rejected with the fix.
func TestNewRejectsCaseVariantMethods(t *testing.T) {
	for m, want := range map[string]string{"patch": "PATCH", "Patch": "PATCH", "propfind": "PROPFIND", "query": "QUERY"} {
		_, err := cors.New(cors.Config{Origins: []string{"https://example.com"}, Methods: []string{m}})
		if err == nil || !strings.Contains(err.Error(), "case variant of "+want) || !strings.Contains(err.Error(), "write "+want) {
			t.Errorf("New(Methods %q) = %v, want a case-variant error suggesting %s", m, err, want)
		}
	}
	for _, m := range []string{"PATCH", "get", "put", "Delete", "X-Custom", "purge"} {
		if _, err := cors.New(cors.Config{Origins: []string{"https://example.com"}, Methods: []string{m}}); err != nil {
			t.Errorf("New(Methods %q): %v", m, err)
		}
	}
}
