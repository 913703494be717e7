package browser_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type scriptsRan struct {
	Nonce  bool `json:"nonce"`
	Inline bool `json:"inline"`
}

const scriptsRanJS = `({nonce: window.nonceRan === true, inline: window.inlineRan === true})`

func TestCSPNonceScriptRunsOtherInlineScriptBlocked(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	tb.open(s.appOrigin(appHost) + "/csp")
	got := eval[scriptsRan](tb, scriptsRanJS)
	if !got.Nonce {
		t.Errorf("the inline script with the request's nonce did not run")
	}
	if got.Inline {
		t.Errorf("the inline script without a nonce ran: the CSP did not block it")
	}
	// The nonce is fresh per response: a reload gets another one.
	resp, _ := tb.response(s.appOrigin(appHost) + "/csp")
	first := header(resp.Headers, "Content-Security-Policy")
	tb.open(s.appOrigin(appHost) + "/csp")
	resp, _ = tb.response(s.appOrigin(appHost) + "/csp")
	if second := header(resp.Headers, "Content-Security-Policy"); first == second || !strings.Contains(second, "'nonce-") {
		t.Errorf("CSP of two loads:\n%s\n%s\nwant a different nonce each time", first, second)
	}
}

// TestCSPViolationReportReachesReportTo: the blocked inline script is
// reported through the Reporting API to the Reporting-Endpoints URL that
// report-to names (application/reports+json, type "csp-violation").
func TestCSPViolationReportReachesReportTo(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	page := s.appOrigin(appHost) + "/csp"
	tb.open(page)
	waitFor(t, s.appRec, 10*time.Second, "a report at /reports", func() bool { return len(s.reportsTo("/reports")) > 0 })

	r := s.reportsTo("/reports")[0]
	if r.ContentType != "application/reports+json" {
		t.Errorf("report Content-Type %q, want application/reports+json", r.ContentType)
	}
	var reports []struct {
		Type string `json:"type"`
		URL  string `json:"url"`
		Body struct {
			DocumentURL        string `json:"documentURL"`
			BlockedURL         string `json:"blockedURL"`
			EffectiveDirective string `json:"effectiveDirective"`
			Disposition        string `json:"disposition"`
		} `json:"body"`
	}
	if err := json.Unmarshal(r.Body, &reports); err != nil {
		t.Fatalf("report body %s: %v", r.Body, err)
	}
	found := false
	for _, rep := range reports {
		if rep.Type == "csp-violation" && rep.Body.BlockedURL == "inline" && rep.Body.DocumentURL == page &&
			rep.Body.EffectiveDirective == "script-src-elem" && rep.Body.Disposition == "enforce" {
			found = true
		}
	}
	if !found {
		t.Errorf("no csp-violation report for the inline script of %s in %s", page, r.Body)
	}
	if n := len(s.reportsTo("/csp-report")); n != 0 {
		t.Errorf("%d report-uri reports with report-to set; browsers send only report-to", n)
	}
}

// TestCSPViolationReportReachesReportURI: the legacy report-uri endpoint
// gets an application/csp-report document.
func TestCSPViolationReportReachesReportURI(t *testing.T) {
	s := newStack(t, options{})
	tb := newTab(t)
	page := s.appOrigin(appHost) + "/legacy/csp"
	tb.open(page)
	if got := eval[scriptsRan](tb, scriptsRanJS); !got.Nonce || got.Inline {
		t.Errorf("scripts ran %+v; want only the nonced one", got)
	}
	waitFor(t, s.appRec, 10*time.Second, "a report at /csp-report", func() bool { return len(s.reportsTo("/csp-report")) > 0 })

	r := s.reportsTo("/csp-report")[0]
	if r.ContentType != "application/csp-report" {
		t.Errorf("report Content-Type %q, want application/csp-report", r.ContentType)
	}
	var doc struct {
		Report struct {
			DocumentURI        string `json:"document-uri"`
			BlockedURI         string `json:"blocked-uri"`
			EffectiveDirective string `json:"effective-directive"`
			OriginalPolicy     string `json:"original-policy"`
		} `json:"csp-report"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("report body %s: %v", r.Body, err)
	}
	if doc.Report.DocumentURI != page || doc.Report.BlockedURI != "inline" ||
		doc.Report.EffectiveDirective != "script-src-elem" || !strings.Contains(doc.Report.OriginalPolicy, "report-uri /csp-report") {
		t.Errorf("report %s; want the inline script of %s blocked by script-src-elem", r.Body, page)
	}
}
