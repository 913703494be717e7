package browser_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"
)

// The one browser every test opens its tabs in, and the certificate every
// test server presents (trusted by that browser through its SPKI hash).
var (
	browserCtx context.Context
	serverCert tls.Certificate
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	path, err := exec.LookPath("chromium")
	if err != nil {
		// A missing browser is a failure, never a skip: CI (.ci/run)
		// installs Debian's chromium package.
		fmt.Fprintln(os.Stderr, "FAIL: chromium not found on PATH (apt-get install chromium); the browser suite cannot run:", err)
		return 1
	}
	cert, err := newCertificate(time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: certificate:", err)
		return 1
	}
	serverCert = cert
	spki := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)

	profile, err := os.MkdirTemp("", "httpmw-chromium-profile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	defer os.RemoveAll(profile)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumFlags(path, profile, spki[:])...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancelBrowser()
		cancelAlloc()
		fmt.Fprintln(os.Stderr, "FAIL: starting chromium:", err)
		return 1
	}
	browserCtx = ctx

	code := m.Run()

	cancelBrowser()
	cancelAlloc()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: goroutines left behind:", err)
			code = 1
		}
	}
	return code
}

// chromiumFlags starts Chromium headless as root, offline (no component
// updates, sync or background requests to refuse), with a fresh profile.
//
// Every *.test host name resolves to 127.0.0.1, so that pages and APIs have
// real, distinct host names: https://app.example.test:PORT is a different
// origin from https://api.example.test:PORT (same site), from
// https://evilexample.test:PORT (another site) and so on, exactly as in
// production. Plain http://127.0.0.1 or http://localhost would not do:
// browsers treat them as potentially trustworthy, which changes what CORS,
// cookies and the Reporting API allow. The servers speak HTTPS (HTTP/2) with
// a certificate made for the run; Chromium trusts exactly that key
// (--ignore-certificate-errors-spki-list), not every certificate, so the
// pages are secure contexts and the connection is as checked as any other.
func chromiumFlags(path, profile string, spki []byte) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP *.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki)),
		// Deliver Reporting API reports (CSP report-to) after ~100 ms
		// instead of the one-minute batching interval.
		chromedp.Flag("short-reporting-delay", true),
	}
}
