package security_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/security"
)

// TestHSTSMaxAgeMustBeWholePositiveSeconds: a negative MaxAge used to send
// max-age=0 (browsers then forget HSTS) and 1.5 s was truncated to 1;
// ForgetHSTS is the one way to send max-age=0.
func TestHSTSMaxAgeMustBeWholePositiveSeconds(t *testing.T) {
	for _, ma := range []time.Duration{-1, -time.Hour, -2 * time.Second, 1500 * time.Millisecond, 90*time.Second + 500*time.Millisecond, time.Millisecond} {
		_, err := security.New(security.Config{HSTS: security.HSTS{MaxAge: ma}})
		if err == nil || !strings.Contains(err.Error(), "HSTS.MaxAge") || !strings.Contains(err.Error(), ma.String()) {
			t.Errorf("New(HSTS.MaxAge %v) = %v, want an HSTS.MaxAge error naming the value", ma, err)
		}
	}
	if got := headerOf(t, security.Config{HSTS: security.HSTS{MaxAge: security.ForgetHSTS}}, "Strict-Transport-Security"); got != "max-age=0; includeSubDomains" {
		t.Errorf("ForgetHSTS sends %q, want max-age=0", got)
	}
	if _, err := security.New(security.Config{HSTS: security.HSTS{MaxAge: security.ForgetHSTS, Preload: true}}); err == nil {
		t.Error("ForgetHSTS with Preload accepted")
	}
}

// TestFrameOptionsWithDefaultCSP: with the CSP left at its default,
// FrameOptions sets frame-ancestors instead of contradicting it.
func TestFrameOptionsWithDefaultCSP(t *testing.T) {
	for fo, fa := range map[string]string{"DENY": "'none'", "deny": "'none'", "SAMEORIGIN": "'self'"} {
		h := mustNew(t, security.Config{FrameOptions: fo}).Handler(http.HandlerFunc(ok))
		hdr := serve(h, httpsReq("GET", "https://example.com/")).Header()
		if got := hdr.Get("X-Frame-Options"); got != strings.ToUpper(fo) {
			t.Errorf("FrameOptions %q: X-Frame-Options = %q", fo, got)
		}
		want := strings.Replace(defaultCSP, "frame-ancestors 'self'", "frame-ancestors "+fa, 1)
		if got := hdr.Get("Content-Security-Policy"); got != want {
			t.Errorf("FrameOptions %q: CSP = %q, want %q", fo, got, want)
		}
	}
	// An explicit policy is the user's: a contradiction stays an error.
	if _, err := security.New(security.Config{CSP: security.DefaultPolicy(), FrameOptions: "DENY"}); err == nil || !strings.Contains(err.Error(), "FrameOptions: contradicts") {
		t.Errorf("explicit CSP with frame-ancestors 'self' and FrameOptions DENY: %v, want the contradiction error", err)
	}
}

// TestNewRejectsValidationGaps: report-uri with a script URL, sandbox in a
// report-only policy (browsers ignore it there), Omit silently beating an
// explicit FrameOptions or CSP, and a nonce nobody can read.
func TestNewRejectsValidationGaps(t *testing.T) {
	dp := security.DefaultPolicy()
	tests := []struct {
		desc string
		cfg  security.Config
		want string
	}{
		{"report-uri javascript", security.Config{CSP: dp.Set(security.ReportURI, "javascript:alert(1)")}, `report-uri: want an absolute http(s) URL or a relative path (value "javascript:alert(1)")`},
		{"report-uri data", security.Config{CSP: dp.Set(security.ReportURI, "data:text/html")}, `report-uri: want an absolute http(s) URL`},
		{"report-uri scheme-relative", security.Config{CSP: dp.Set(security.ReportURI, "//evil.example/r")}, `report-uri: want an absolute http(s) URL`},
		{"report-uri without host", security.Config{CSP: dp.Set(security.ReportURI, "https:/r")}, `report-uri: want an absolute http(s) URL`},
		{"report-uri with userinfo", security.Config{CSP: dp.Set(security.ReportURI, "https://u:p@r.example/")}, `report-uri: want an absolute http(s) URL`},
		{"sandbox in report-only", security.Config{CSPReportOnly: dp.Set(security.Sandbox, "allow-scripts")}, `CSPReportOnly: sandbox is ignored in a report-only policy`},
		{"omit beats FrameOptions", security.Config{FrameOptions: "DENY", Omit: []string{"X-Frame-Options"}}, `FrameOptions: set, but X-Frame-Options is in Omit (value "DENY")`},
		{"nonce in an omitted CSP", security.Config{CSP: dp.Set(security.ScriptSrc, security.RequestNonce), Omit: []string{"Content-Security-Policy"}},
			`CSP: set, but Content-Security-Policy is in Omit`},
		{"nonce in an omitted report-only CSP", security.Config{CSPReportOnly: dp.Set(security.ScriptSrc, security.RequestNonce), Omit: []string{"Content-Security-Policy-Report-Only"}},
			`CSPReportOnly: set, but Content-Security-Policy-Report-Only is in Omit`},
		{"X-XSS-Protection omitted", security.Config{DisableXSSAuditor: true, Omit: []string{"X-XSS-Protection"}}, `DisableXSSAuditor: set, but X-XSS-Protection is in Omit`},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := security.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, uri := range []string{"/csp-report", "csp-report", "https://r.example/csp?x=1", "http://localhost:8080/r"} {
		if _, err := security.New(security.Config{CSP: dp.Set(security.ReportURI, uri)}); err != nil {
			t.Errorf("report-uri %q: %v", uri, err)
		}
	}
	// The trial recipe: report-only policy, enforced one omitted.
	if _, err := security.New(security.Config{CSPReportOnly: dp, Omit: []string{"Content-Security-Policy"}}); err != nil {
		t.Errorf("report-only trial: %v", err)
	}
}

// TestZeroMiddlewarePassesThrough: a nil or zero Middleware (New not
// called) passes requests to next untouched, as in every package.
func TestZeroMiddlewarePassesThrough(t *testing.T) {
	for _, m := range []*security.Middleware{nil, new(security.Middleware)} {
		called := false
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true; ok(w, r) }))
		rec := serve(h, httpsReq("GET", "https://example.com/"))
		if !called || rec.Code != 200 || rec.Header().Get("Content-Security-Policy") != "" || rec.Header().Get("X-Content-Type-Options") != "" {
			t.Errorf("zero Middleware: next called %t, status %d, headers %v", called, rec.Code, rec.Header())
		}
	}
}

// TestRedirectDefaultsToHTTPSPort: with RedirectPort 0 the redirect goes to
// https's default port, whatever port the plain-HTTP request came to (behind
// a proxy the public port is 80; in development :8080 cannot also be TLS).
func TestRedirectDefaultsToHTTPSPort(t *testing.T) {
	for host, want := range map[string]string{
		"example.com:8080": "https://example.com/p",
		"example.com:80":   "https://example.com/p",
		"example.com":      "https://example.com/p",
		"[2001:db8::1]:80": "https://[2001:db8::1]/p",
	} {
		m := mustNew(t, security.Config{RedirectHosts: []string{"example.com", "2001:db8::1"}})
		r := httptest.NewRequest("GET", "http://placeholder/p", nil)
		r.Host = host
		rec := serve(m.Handler(http.HandlerFunc(ok)), r)
		if got := rec.Header().Get("Location"); rec.Code != 301 || got != want {
			t.Errorf("Host %q: %d Location %q, want 301 %q", host, rec.Code, got, want)
		}
	}
}

// TestXSSProtectionOptIn: X-XSS-Protection: 0 (OWASP, helmet) only when
// asked for; never the harmful "1; mode=block".
func TestXSSProtectionOptIn(t *testing.T) {
	if got := headerOf(t, security.Config{}, "X-XSS-Protection"); got != "" {
		t.Errorf("default X-XSS-Protection = %q, want none", got)
	}
	if got := headerOf(t, security.Config{DisableXSSAuditor: true}, "X-XSS-Protection"); got != "0" {
		t.Errorf("DisableXSSAuditor: X-XSS-Protection = %q, want 0", got)
	}
}

// TestEveryHeaderAtOnce: with every optional header on (X-XSS-Protection is
// the fifteenth), each response still gets one value per header.
func TestEveryHeaderAtOnce(t *testing.T) {
	nonced := security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce).Set(security.ReportTo, "csp")
	for _, csp := range []security.Policy{security.DefaultPolicy().Set(security.ReportTo, "csp"), nonced} {
		m := mustNew(t, security.Config{
			CSP: csp, CSPReportOnly: csp, ReportingEndpoints: []security.Endpoint{{Name: "csp", URL: "/csp"}},
			CrossOriginEmbedderPolicy: "credentialless", DisableXSSAuditor: true,
			FrameOptions: "SAMEORIGIN", OriginAgentCluster: "?1", DNSPrefetchControl: "off", PermittedCrossDomainPolicies: "none",
		})
		hdr := serve(m.Handler(http.HandlerFunc(ok)), httpsReq("GET", "https://example.com/")).Header()
		got := flat(t, hdr)
		for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "Content-Security-Policy-Report-Only", "Reporting-Endpoints", "Cross-Origin-Embedder-Policy", "X-Xss-Protection", "X-Frame-Options", "Origin-Agent-Cluster", "X-Dns-Prefetch-Control", "X-Permitted-Cross-Domain-Policies"} {
			if got[k] == "" {
				t.Errorf("%s missing: %v", k, got)
			}
		}
	}
}

// TestFieldsBrowsersIgnoreAreOptIn: Origin-Agent-Cluster (Chromium's default
// since 115, read by no other engine), X-DNS-Prefetch-Control (non-standard;
// browsers skip link prefetching on HTTPS pages anyway) and
// X-Permitted-Cross-Domain-Policies (read by Flash and Acrobat, not by
// browsers) are sent only when configured, and configuring one that Omit
// lists is an error, as for every other explicit field.
func TestFieldsBrowsersIgnoreAreOptIn(t *testing.T) {
	for _, k := range []string{"Origin-Agent-Cluster", "X-DNS-Prefetch-Control", "X-Permitted-Cross-Domain-Policies"} {
		if got := headerOf(t, security.Config{}, k); got != "" {
			t.Errorf("default %s = %q, want none", k, got)
		}
	}
	if got := headerOf(t, security.Config{OriginAgentCluster: "?1"}, "Origin-Agent-Cluster"); got != "?1" {
		t.Errorf("OriginAgentCluster ?1: got %q", got)
	}
	if got := headerOf(t, security.Config{DNSPrefetchControl: "off"}, "X-DNS-Prefetch-Control"); got != "off" {
		t.Errorf("DNSPrefetchControl off: got %q", got)
	}
	for _, tc := range []struct {
		cfg  security.Config
		want string
	}{
		{security.Config{OriginAgentCluster: "?1", Omit: []string{"origin-agent-cluster"}}, `OriginAgentCluster: set, but Origin-Agent-Cluster is in Omit (value "?1")`},
		{security.Config{DNSPrefetchControl: "on", Omit: []string{"X-DNS-Prefetch-Control"}}, `DNSPrefetchControl: set, but X-DNS-Prefetch-Control is in Omit (value "on")`},
		{security.Config{PermittedCrossDomainPolicies: "none", Omit: []string{"X-Permitted-Cross-Domain-Policies"}}, `PermittedCrossDomainPolicies: set, but X-Permitted-Cross-Domain-Policies is in Omit (value "none")`},
	} {
		if _, err := security.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestOwnAnswersOfANoncePolicyKeepFramingProtection: X-Frame-Options is left
// out because the enforced CSP's frame-ancestors covers framing, so every
// response without it must carry that CSP. The middleware's own answers over
// plain HTTP (the 301/308 redirect and the 421 for another host, a
// problem+json page a frame can show) carried neither with a nonce policy:
// its CSP is built per request and was missing there.
func TestOwnAnswersOfANoncePolicyKeepFramingProtection(t *testing.T) {
	nonced := security.DefaultPolicy().Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic)
	m := mustNew(t, security.Config{RedirectHosts: []string{"example.com"}, CSP: nonced, CSPReportOnly: nonced})
	h := m.Handler(http.HandlerFunc(ok))
	for _, tc := range []struct {
		host string
		want int
	}{{"example.com", http.StatusMovedPermanently}, {"evil.example", http.StatusMisdirectedRequest}} {
		r := httptest.NewRequest("GET", "http://"+tc.host+"/", nil)
		rec := serve(h, r)
		if rec.Code != tc.want {
			t.Fatalf("%s: status %d, want %d", tc.host, rec.Code, tc.want)
		}
		hdr := rec.Header()
		csp := hdr.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'self'") && hdr.Get("X-Frame-Options") == "" {
			t.Errorf("%d: no frame-ancestors and no X-Frame-Options: %q", tc.want, hdr)
		}
		if !strings.Contains(csp, "'nonce-") || hdr.Get("Content-Security-Policy-Report-Only") == "" {
			t.Errorf("%d: CSP %q, report-only %q: want the policies with a nonce", tc.want, csp, hdr.Get("Content-Security-Policy-Report-Only"))
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Strict-Transport-Security") != "" {
			t.Errorf("%d: static fields wrong: %q", tc.want, hdr)
		}
	}
}
