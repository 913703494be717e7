package cors_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/cors"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	origins := func(o ...string) cors.Config { return cors.Config{Origins: o} }
	ok := []string{"https://example.com"}
	tests := []struct {
		desc string
		cfg  cors.Config
		want string // substring of the one error
	}{
		{"zero config allows nobody", cors.Config{}, "cors: Origins: at least one origin is required"},
		// rs/cors#55 and go-chi, gorilla: "*" with credentials.
		{"star with credentials", cors.Config{Origins: []string{"*"}, Credentials: true}, `cannot be combined with Credentials (browsers reject it, and reflecting every origin instead would let any site read credentialed responses) (value "*")`},
		{"null origin without the flag", origins("null"), `needs DangerouslyAllowNullOrigin (value "null")`},
		{"insecure origin with credentials", cors.Config{Origins: []string{"http://example.com"}, Credentials: true}, `insecure origin with Credentials`},
		{"insecure subdomain pattern with credentials", cors.Config{Origins: []string{"http://*.example.com"}, Credentials: true}, `insecure origin with Credentials`},
		{"trailing slash", origins("https://example.com/"), `cors: Origins: must not contain a path, query, fragment or trailing slash (value "https://example.com/")`},
		{"path", origins("https://example.com/app"), "must not contain a path"},
		{"query", origins("https://example.com?x=1"), "must not contain a path"},
		{"fragment", origins("https://example.com#x"), "must not contain a path"},
		{"userinfo", origins("https://user@example.com"), "must not contain userinfo"},
		{"port zero", origins("https://example.com:0"), "port must be"},
		{"port too large", origins("https://example.com:65536"), "port must be"},
		{"port leading zero", origins("https://example.com:0443"), "port must be"},
		{"empty port", origins("https://example.com:"), "port must be"},
		{"default https port", origins("https://example.com:443"), "default port must be omitted"},
		{"default http port", origins("http://example.com:80"), "default port must be omitted"},
		{"uppercase scheme", origins("HTTPS://example.com"), "scheme must be lowercase"},
		{"uppercase host", origins("https://Example.com"), "host must be a lowercase ASCII domain name"},
		{"missing scheme", origins("example.com"), "must be scheme://host[:port]"},
		{"non-ASCII host", origins("https://résumé.example"), "host must be"},
		{"label starting with a hyphen (RFC 1123 §2.1)", origins("https://-a.com"), "host must be"},
		{"label ending with a hyphen", origins("https://a-.example.com"), "host must be"},
		{"subdomain pattern on a hyphen label", origins("https://*.-example.com"), "must be"},
		{"empty host", origins("https://"), "host must be"},
		{"trailing dot", origins("https://example.com."), "host must be"},
		{"empty label", origins("https://a..example.com"), "host must be"},
		{"hex IPv4", origins("http://0xff000000"), "IPv4 address must be in canonical dotted-quad form"},
		{"IPv4 leading zero", origins("http://127.0.0.01"), "IPv4 address must be"},
		{"non-canonical IPv6", origins("http://[2001:db8:0:0:0:0:0:1]"), `browsers send "http://[2001:db8::1]"`},
		{"uppercase IPv6", origins("http://[2001:DB8::1]"), `browsers send "http://[2001:db8::1]"`},
		{"unterminated IPv6", origins("http://[::1"), "host must be"},
		{"file scheme", origins("file:///etc/passwd"), "opaque origins"},
		{"file scheme without path", origins("file://host"), "opaque origins"},
		{"wildcard without dot", origins("https://*example.com"), "wildcard allowed only as the first label"},
		{"wildcard in middle label", origins("https://api.*.example.com"), "wildcard allowed only"},
		{"wildcard inside label", origins("https://a*.example.com"), "wildcard allowed only"},
		{"wildcard scheme", origins("*://example.com"), "wildcard allowed only"},
		{"wildcard only host", origins("https://*"), "wildcard allowed only"},
		{"wildcard tld", origins("https://example.*"), "wildcard allowed only"},
		{"wildcard without scheme", origins("*.example.com"), "wildcard allowed only"},
		{"double wildcard", origins("https://*.*.example.com"), "wildcard allowed only"},
		{"wildcard port", origins("https://example.com:*"), "needs DangerouslyAllowPortWildcards"},
		{"wildcard over a tld", origins("https://*.com"), `the wildcard's base "com" is a public suffix`},
		{"wildcard over an IP", origins("https://*.0.0.1"), "host must be"},
		{"forbidden method CONNECT", cors.Config{Origins: ok, Methods: []string{"CONNECT"}}, `cors: Methods: forbidden method: browsers never send it (value "CONNECT")`},
		{"forbidden method trace any case", cors.Config{Origins: ok, Methods: []string{"trace"}}, "forbidden method"},
		{"forbidden method TRACK", cors.Config{Origins: ok, Methods: []string{"TRACK"}}, "forbidden method"},
		{"method with space", cors.Config{Origins: ok, Methods: []string{"PU T"}}, "not a valid method token"},
		{"empty method", cors.Config{Origins: ok, Methods: []string{""}}, "not a valid method token"},
		{"forbidden header Cookie", cors.Config{Origins: ok, RequestHeaders: []string{"Cookie"}}, `cors: RequestHeaders: forbidden request header: browsers never let scripts set it (value "Cookie")`},
		{"forbidden header Sec-", cors.Config{Origins: ok, RequestHeaders: []string{"Sec-Fetch-Mode"}}, "forbidden request header"},
		{"forbidden header Proxy-", cors.Config{Origins: ok, RequestHeaders: []string{"proxy-authorization"}}, "forbidden request header"},
		{"forbidden header Origin", cors.Config{Origins: ok, RequestHeaders: []string{"Origin"}}, "forbidden request header"},
		{"response CORS header as request header", cors.Config{Origins: ok, RequestHeaders: []string{"Access-Control-Allow-Origin"}}, "forbidden request header"},
		{"invalid request header", cors.Config{Origins: ok, RequestHeaders: []string{"X Custom"}}, "not a valid header name"},
		{"empty request header", cors.Config{Origins: ok, RequestHeaders: []string{""}}, "not a valid header name"},
		{"expose Set-Cookie", cors.Config{Origins: ok, ExposedHeaders: []string{"Set-Cookie"}}, "forbidden response header"},
		{"expose star with credentials", cors.Config{Origins: ok, Credentials: true, ExposedHeaders: []string{"*"}}, "literal name"},
		{"invalid exposed header", cors.Config{Origins: ok, ExposedHeaders: []string{"X:Y"}}, "not a valid header name"},
		{"max age above a day", cors.Config{Origins: ok, MaxAge: 86401 * time.Second}, `cors: MaxAge: must be between -1s (NoPreflightCache) and 24h`},
		{"max age below -1s", cors.Config{Origins: ok, MaxAge: -2 * time.Second}, "must be between"},
		{"max age fraction", cors.Config{Origins: ok, MaxAge: 1500 * time.Millisecond}, "whole number of seconds"},
		{"preflight status redirect", cors.Config{Origins: ok, PreflightStatus: 302}, "must be an ok status"},
		{"preflight status 403", cors.Config{Origins: ok, PreflightStatus: http.StatusForbidden}, "must be an ok status"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			m, err := cors.New(tc.cfg)
			if err == nil {
				t.Fatalf("New(%+v) = %v, nil; want an error containing %q", tc.cfg, m, tc.want)
			}
			if m != nil {
				t.Errorf("New returned a non-nil middleware with an error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cors: ") {
				t.Errorf("New error = %q, want it to contain %q", err, tc.want)
			}
			if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 1 {
				t.Errorf("New reported %d problems, want 1: %v", n, err)
			}
		})
	}
}

func TestNewReportsEveryProblemAtOnce(t *testing.T) {
	_, err := cors.New(cors.Config{
		Origins:        []string{"*", "https://example.com/", "null"},
		Credentials:    true,
		Methods:        []string{"TRACE"},
		RequestHeaders: []string{"Cookie"},
		MaxAge:         -5 * time.Second,
	})
	if err == nil {
		t.Fatal("New accepted a config with six problems")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("New error %T is not an errors.Join", err)
	}
	if got := len(joined.Unwrap()); got != 6 {
		t.Errorf("New reported %d problems, want 6:\n%v", got, err)
	}
	for _, want := range []string{`"*"`, `"https://example.com/"`, `"null"`, `"TRACE"`, `"Cookie"`, `"-5s"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error does not name %s:\n%v", want, err)
		}
	}
}

func TestNewAcceptsValidConfig(t *testing.T) {
	tests := []struct {
		desc string
		cfg  cors.Config
	}{
		{"exact origin", cors.Config{Origins: []string{"https://example.com"}}},
		{"origin with port", cors.Config{Origins: []string{"https://example.com:8443"}}},
		{"subdomain pattern with port", cors.Config{Origins: []string{"https://*.example.com:8443"}}},
		{"subdomain of localhost", cors.Config{Origins: []string{"http://*.localhost"}, Credentials: true}},
		{"localhost with credentials", cors.Config{Origins: []string{"http://localhost:3000"}, Credentials: true}},
		{"loopback IPv4 with credentials", cors.Config{Origins: []string{"http://127.0.0.1:8080"}, Credentials: true}},
		{"loopback IPv6 with credentials", cors.Config{Origins: []string{"http://[::1]:8080"}, Credentials: true}},
		{"public IPv6", cors.Config{Origins: []string{"https://[2001:db8::1]"}}},
		{"private IPv4 without credentials", cors.Config{Origins: []string{"http://192.168.1.10:8080"}}},
		{"insecure without credentials", cors.Config{Origins: []string{"http://example.com"}}},
		{"insecure with the dangerous flag", cors.Config{Origins: []string{"http://example.com"}, Credentials: true, DangerouslyAllowInsecureOrigins: true}},
		{"null with the dangerous flag", cors.Config{Origins: []string{"null"}, DangerouslyAllowNullOrigin: true}},
		{"browser extension", cors.Config{Origins: []string{"chrome-extension://abcdefghijklmnop"}, Credentials: true}},
		{"star anonymous", cors.Config{Origins: []string{"*"}, Methods: []string{"*"}, RequestHeaders: []string{"*"}, ExposedHeaders: []string{"*"}}},
		{"star methods and headers with credentials", cors.Config{Origins: []string{"https://example.com"}, Credentials: true, Methods: []string{"*"}, RequestHeaders: []string{"*"}}},
		{"safelisted and duplicate names", cors.Config{Origins: []string{"https://example.com", "https://example.com"}, Methods: []string{"get", "PUT", "put"}, ExposedHeaders: []string{"Content-Type", "X-Id", "x-id"}}},
		{"max age bounds", cors.Config{Origins: []string{"https://example.com"}, MaxAge: 24 * time.Hour}},
		{"no preflight cache", cors.Config{Origins: []string{"https://example.com"}, MaxAge: cors.NoPreflightCache}},
		{"preflight status 200", cors.Config{Origins: []string{"https://example.com"}, PreflightStatus: http.StatusOK}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if _, err := cors.New(tc.cfg); err != nil {
				t.Errorf("New(%+v) = %v, want no error", tc.cfg, err)
			}
		})
	}
}

func TestNewCopiesConfig(t *testing.T) {
	cfg := cors.Config{Origins: []string{"https://example.com"}, Methods: []string{"PUT"}}
	m, err := cors.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Origins[0] = "https://evil.com"
	cfg.Methods[0] = "DELETE"
	if !cors.AllowOrigin(m, "https://example.com") || cors.AllowOrigin(m, "https://evil.com") {
		t.Error("changing Config.Origins after New changed the policy")
	}
	for method, want := range map[string]int{"PUT": http.StatusNoContent, "DELETE": http.StatusForbidden} {
		rec, _ := serve(m, http.MethodOptions, "Origin", "https://example.com", "Access-Control-Request-Method", method)
		if rec.Code != want {
			t.Errorf("preflight for %s: status %d, want %d (changing Config.Methods after New must not matter)", method, rec.Code, want)
		}
	}
}
