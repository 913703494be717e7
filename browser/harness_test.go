package browser_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Host names of the pages (all resolve to 127.0.0.1 in the browser). The
// API allows https://*.example.test:PORT, so the first two may call it and
// the others may not.
const (
	appHost       = "app.example.test"  // the single-page app (wildcard subdomain)
	shopHost      = "shop.example.test" // another subdomain
	apexHost      = "example.test"      // the wildcard does not cover the apex
	lookalikeHost = "evilexample.test"  // look-alike: must not match *.example.test
	apiHost       = "api.example.test"  // the API (same site as the app, other origin)
)

// newCertificate makes a self-signed certificate for every host name above,
// valid around now.
func newCertificate(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "httpmw browser suite"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{apexHost, "*." + apexHost, lookalikeHost},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// server is an HTTPS (HTTP/2) test server on 127.0.0.1 whose handler is set
// after its port is known (the app's CSP names the API's origin and the
// API's CORS policy names the app's port).
type server struct {
	*httptest.Server
	port string
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := httptest.NewUnstartedServer(nil)
	s.EnableHTTP2 = true
	s.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the browser abandons
	_, port, err := net.SplitHostPort(s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &server{Server: s, port: port}
}

// origin is https://host:port of the server under that host name.
func (s *server) origin(host string) string { return "https://" + host + ":" + s.port }

func (s *server) start(h http.Handler) {
	s.Config.Handler = h
	s.StartTLS()
}

// request is what a server saw of one request, before any middleware ran.
type request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	At     time.Time
}

// recorder keeps the requests a server received (bounded: tests make few).
type recorder struct {
	mu   sync.Mutex
	reqs []request
	seen chan struct{} // a token per request, for waiting without sleeping
}

func newRecorder() *recorder { return &recorder{seen: make(chan struct{}, 1024)} }

// wrap records every request before next handles it. It does not wrap the
// ResponseWriter, so nothing of the chain under test changes.
func (rc *recorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		if len(rc.reqs) < 1000 {
			rc.reqs = append(rc.reqs, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), time.Now()})
		}
		rc.mu.Unlock()
		rc.signal()
		next.ServeHTTP(w, r)
		rc.signal() // again once handled, for conditions on the handler's work
	})
}

func (rc *recorder) signal() {
	select {
	case rc.seen <- struct{}{}:
	default:
	}
}

// find returns the requests with that method and path, in arrival order.
func (rc *recorder) find(method, path string) []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []request
	for _, r := range rc.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// logBuffer collects JSON log lines (the trace middleware's access log).
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records decodes every line.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// tab is a browser tab in its own browser context (cookies, HTTP cache and
// preflight cache of its own), with its console and network responses
// recorded. When the test fails, a screenshot and the console are saved.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu        sync.Mutex
	console   []string
	responses map[string]*network.Response // by URL, the last one
	finished  map[network.RequestID]float64
	wire      map[network.RequestID]int64  // status on the wire (ResponseReceivedExtraInfo)
	ids       map[string]network.RequestID // URL → last request id
	wsHeaders []network.Headers            // WebSocket handshake responses
	changed   chan struct{}                // a token per Network event
}

func newTab(t *testing.T) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	tb := &tab{t: t, ctx: ctx, responses: map[string]*network.Response{},
		finished: map[network.RequestID]float64{}, ids: map[string]network.RequestID{},
		wire:    map[network.RequestID]int64{},
		changed: make(chan struct{}, 1)}
	if err := chromedp.Listen(ctx, tb.onEvent); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		cancel()
		t.Fatalf("Network.enable: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, fmt.Sprintf("%s %s (%s:%d)", m.Time.Format("15:04:05.000"), m, m.URL, m.Line))
			tb.mu.Unlock()
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveArtifacts()
		}
		cancel()
		wg.Wait()
	})
	return tb
}

// onEvent runs on chromedp's reading goroutine: record and return.
func (tb *tab) onEvent(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventResponseReceived:
		tb.responses[e.Response.URL] = e.Response
		tb.ids[e.Response.URL] = e.RequestID
	case *network.EventLoadingFinished:
		n := e.EncodedBodyLength
		if n == 0 {
			n = e.EncodedDataLength // older browsers: body and headers
		}
		tb.finished[e.RequestID] = n
	case *network.EventResponseReceivedExtraInfo:
		tb.wire[e.RequestID] = e.StatusCode
	case *network.EventLoadingFailed: // e.g. an EventSource closed by the page
		if _, ok := tb.finished[e.RequestID]; !ok {
			tb.finished[e.RequestID] = 0
		}
	case *network.EventWebSocketHandshakeResponseReceived:
		tb.wsHeaders = append(tb.wsHeaders, e.Response.Headers)
	default:
		return
	}
	select {
	case tb.changed <- struct{}{}:
	default:
	}
}

// response is the browser's view (Network domain) of the last response from
// url, and the size of its body on the wire (before content decoding). It
// waits for the browser's Network.loadingFinished event of that response,
// which may come after the page has read the body.
func (tb *tab) response(url string) (*network.Response, float64) {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		tb.mu.Lock()
		r := tb.responses[url]
		n, done := tb.finished[tb.ids[url]]
		tb.mu.Unlock()
		if r != nil && done {
			return r, n
		}
		select {
		case <-tb.changed:
		case <-deadline.C:
			return r, n
		}
	}
}

// wireStatus is the status the browser received on the wire for the last
// request to url: 304 for a revalidated response that the page sees as the
// cached 200. It waits for the event like response does.
func (tb *tab) wireStatus(url string) int64 {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		tb.mu.Lock()
		st, ok := tb.wire[tb.ids[url]]
		tb.mu.Unlock()
		if ok {
			return st
		}
		select {
		case <-tb.changed:
		case <-deadline.C:
			return 0
		}
	}
}

// header reads a header of a Network-domain response, case-insensitively
// (HTTP/2 names are lowercase).
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

var unsafePath = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// saveArtifacts writes a screenshot and the page's console to a directory
// that outlives the test (t.ArtifactDir with -artifacts, else a new
// directory under os.TempDir) and prints its path.
func (tb *tab) saveArtifacts() {
	t := tb.t
	var dir string
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		dir = t.ArtifactDir()
	} else {
		d, err := os.MkdirTemp("", "httpmw-browser-"+unsafePath.ReplaceAllString(t.Name(), "_")+"-")
		if err != nil {
			t.Logf("artifacts: %v", err)
			return
		}
		dir = d
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(dir+"/screenshot.png", png, 0o644)
	} else {
		t.Logf("screenshot: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		tb.mu.Lock()
		tb.console = append(tb.console, "page: "+loc)
		tb.mu.Unlock()
	}
	tb.mu.Lock()
	text := strings.Join(tb.console, "\n") + "\n"
	tb.mu.Unlock()
	_ = os.WriteFile(dir+"/console.txt", []byte(text), 0o644)
	t.Logf("browser artifacts (screenshot.png, console.txt) in %s", dir)
}

// open navigates the tab to url and waits for the load event.
func (tb *tab) open(url string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		tb.t.Fatalf("navigate %s: %v", url, err)
	}
}

// eval runs script in the page (awaiting a returned promise) and decodes its
// JSON-serializable result into T.
func eval[T any](tb *tab, script string) T {
	tb.t.Helper()
	v, err := evalErr[T](tb, script)
	if err != nil {
		tb.t.Fatalf("script failed: %v\n%s", err, script)
	}
	return v
}

func evalErr[T any](tb *tab, script string) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

func itoa(n int) string { return strconv.Itoa(n) }

// js quotes s as a JavaScript string literal.
func js(s string) string { return strconv.Quote(s) }

// waitFor waits (without sleeping: it wakes on every request the recorder
// sees) until cond holds, failing after timeout.
func waitFor(t *testing.T, rc *recorder, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-rc.seen:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}
