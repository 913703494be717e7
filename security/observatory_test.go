package security_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jiec/httpmw/security"
)

// The Mozilla HTTP Observatory (@mdn/mdn-http-observatory 1.4.8, installed by
// .ci/observatory.sh, which exports HTTPMW_OBSERVATORY_DIR) scans a live
// server. Its CLI takes only "host[:port]" and builds both http://host:port and
// https://host:port from it (src/retriever/url.js; the httpPort/httpsPort
// options are not reachable from src/scan.js), so the test server answers
// TLS and plain HTTP on the same port: a listener peeks at the first byte
// (0x16 = TLS handshake record) and hands TLS connections to net/http as
// *tls.Conn (so r.TLS is set) and the rest as plain HTTP, which the middleware
// redirects to https://127.0.0.1:PORT. The scanner trusts the test CA through
// NODE_EXTRA_CA_CERTS; bin/wrapper.js would overwrite that variable, so the
// test runs src/scan.js directly.

type observatoryResult struct {
	Error string `json:"error"`
	Scan  struct {
		Grade       string `json:"grade"`
		Score       int    `json:"score"`
		TestsFailed int    `json:"testsFailed"`
		TestsPassed int    `json:"testsPassed"`
	} `json:"scan"`
	Tests map[string]struct {
		Pass          bool   `json:"pass"`
		Result        string `json:"result"`
		ScoreModifier int    `json:"scoreModifier"`
	} `json:"tests"`
}

func TestObservatoryGrade(t *testing.T) {
	dir := os.Getenv("HTTPMW_OBSERVATORY_DIR")
	if dir == "" {
		t.Skip("HTTPMW_OBSERVATORY_DIR is unset; source .ci/observatory.sh to install the MDN HTTP Observatory scanner")
	}
	scanJS := filepath.Join(dir, "node_modules", "@mdn", "mdn-http-observatory", "src", "scan.js")
	if _, err := os.Stat(scanJS); err != nil {
		t.Fatalf("HTTPMW_OBSERVATORY_DIR=%s is set but the scanner is missing (%v); source .ci/observatory.sh again, or unset the variable to skip this test", dir, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("HTTPMW_OBSERVATORY_DIR is set but node is not in PATH (%v); install Node.js 20 or later, or unset the variable to skip this test", err)
	}
	caPEM, serverCert := testCA(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	nonced := security.DefaultPolicy().
		Set(security.ScriptSrc, security.RequestNonce, security.StrictDynamic).
		Set(security.StyleSrc, security.Self, security.RequestNonce)
	tests := []struct {
		desc       string
		cfg        security.Config
		tls        bool
		wantGrade  string
		wantScore  int
		wantFailed []string
	}{
		{
			desc:      "default config over HTTPS with the HTTP redirect",
			cfg:       security.Config{RedirectHosts: []string{"127.0.0.1"}},
			tls:       true,
			wantGrade: "A+", wantScore: 125,
		},
		{
			desc:      "nonce policy with strict-dynamic over HTTPS with the HTTP redirect",
			cfg:       security.Config{RedirectHosts: []string{"127.0.0.1"}, CSP: nonced},
			tls:       true,
			wantGrade: "A+", wantScore: 125,
		},
		{
			desc:      "FrameOptions DENY with the default CSP and X-XSS-Protection: 0 over HTTPS",
			cfg:       security.Config{RedirectHosts: []string{"127.0.0.1"}, FrameOptions: "DENY", DisableXSSAuditor: true},
			tls:       true,
			wantGrade: "A+", wantScore: 125,
		},
		{
			// Without TLS the scanner takes −20 for HSTS and −20 for the
			// missing redirect and withholds every bonus: C+ (60) is the best
			// possible plain-HTTP grade.
			desc:       "default config over plain HTTP",
			cfg:        security.Config{},
			wantGrade:  "C+",
			wantScore:  60,
			wantFailed: []string{"redirection", "strict-transport-security"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(nil)
			cfg := tc.cfg
			if len(cfg.RedirectHosts) > 0 {
				// TLS and plain HTTP share the port (sniffListener): the
				// redirect targets it.
				cfg.RedirectPort = srv.Listener.Addr().(*net.TCPAddr).Port
			}
			m, err := security.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv.Config.Handler = m.Handler(http.HandlerFunc(observatoryPage))
			if tc.tls {
				srv.Listener = &sniffListener{Listener: srv.Listener, config: &tls.Config{
					Certificates: []tls.Certificate{serverCert},
					MinVersion:   tls.VersionTLS12,
				}}
			}
			srv.Start()
			defer srv.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, scanJS, srv.Listener.Addr().String())
			cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+caFile)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			var res observatoryResult
			if jerr := json.Unmarshal(out, &res); jerr != nil {
				t.Fatalf("scanner %s: %v (not JSON: %v)\nstdout: %.2000s\nstderr: %.2000s", scanJS, err, jerr, out, stderr.String())
			}
			if res.Error != "" || err != nil {
				t.Fatalf("scanner error %q (%v)\nstderr: %.2000s", res.Error, err, stderr.String())
			}
			var failed []string
			for name, r := range res.Tests {
				if !r.Pass {
					failed = append(failed, name)
				}
				t.Logf("%-32s pass=%-5v %+3d %s", name, r.Pass, r.ScoreModifier, r.Result)
			}
			t.Logf("grade %s, score %d, %d passed, %d failed", res.Scan.Grade, res.Scan.Score, res.Scan.TestsPassed, res.Scan.TestsFailed)
			if res.Scan.Grade != tc.wantGrade || res.Scan.Score != tc.wantScore {
				t.Errorf("grade %s (score %d), want %s (score %d)", res.Scan.Grade, res.Scan.Score, tc.wantGrade, tc.wantScore)
			}
			if fmt.Sprint(sortedCopy(failed)) != fmt.Sprint(tc.wantFailed) && !(len(failed) == 0 && len(tc.wantFailed) == 0) {
				t.Errorf("failed tests %v, want %v", sortedCopy(failed), tc.wantFailed)
			}
			if res.Scan.TestsFailed != len(tc.wantFailed) {
				t.Errorf("testsFailed = %d, want %d", res.Scan.TestsFailed, len(tc.wantFailed))
			}
		})
	}
}

// observatoryPage is a small HTML page; with a nonce policy its inline script and style
// carry the nonce.
func observatoryPage(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	n := security.Nonce(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>httpmw</title><style nonce=%q>p{}</style></head>`+
		`<body><p>hello</p><script nonce=%q>document.title+="!"</script></body></html>`, n, n)
}

// sniffListener serves TLS and plain HTTP on one port.
type sniffListener struct {
	net.Listener
	config *tls.Config
}

func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	pc := &peekedConn{Conn: c, r: br}
	if err == nil && first[0] == 0x16 {
		return tls.Server(pc, l.config), nil
	}
	return pc, nil
}

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// testCA returns a throwaway CA (PEM) and a certificate for 127.0.0.1 it signed.
func testCA(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "httpmw test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}
}
