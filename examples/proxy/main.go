// Command proxy runs an app behind a TLS-terminating reverse proxy
// (httputil.ReverseProxy) and configures the two middlewares that must
// know about it:
//
//   - security.Config.TrustedProxies: only a request that comes from the
//     proxy counts as HTTPS when X-Forwarded-Proto/Forwarded says so, so HSTS
//     is sent and the HTTP→HTTPS redirect does not loop; a client talking to
//     the app directly cannot claim HTTPS;
//
//   - ratelimit.Config.TrustedProxies: the client is the first untrusted
//     address of X-Forwarded-For read from the right, so every client gets
//     its own bucket (not one for the proxy), and a forged X-Forwarded-For
//     cannot choose one.
//
// Run it:
//
//	go run ./examples/proxy             # https://127.0.0.1:8443 → http://127.0.0.1:8088
//	curl -k https://127.0.0.1:8443/
//
// The proxy connects to the app from 127.0.0.2 (a loopback address on
// Linux), the one address the app trusts, so the demo tells the proxy from a
// client even on one machine. In production, trust your load balancer's
// addresses or subnet, and nothing else.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jiec/httpmw/ratelimit"
	"github.com/jiec/httpmw/security"
	"github.com/jiec/httpmw/trace"
)

// proxyAddr is the address the proxy connects to the app from.
var proxyAddr = netip.MustParseAddr("127.0.0.2")

// app is the service behind the proxy.
func app(logger *slog.Logger) (http.Handler, error) {
	tr, err1 := trace.New(trace.Config{AccessLog: logger})
	sec, err2 := security.New(security.Config{
		TrustedProxies: []string{proxyAddr.String()},
		// Plain-HTTP requests for these hosts are redirected to HTTPS;
		// requests through the proxy are HTTPS already.
		RedirectHosts: []string{"localhost", "127.0.0.1"},
	})
	var rl *ratelimit.Middleware
	rl, err3 := ratelimit.New(ratelimit.Config{
		Policies:       []ratelimit.Policy{{Name: "hourly", Limit: 1000, Period: time.Hour}},
		TrustedProxies: []netip.Prefix{netip.PrefixFrom(proxyAddr, 32)},
		Logger:         logger,
	})
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		ip, _ := rl.ClientIP(r)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "client %s, trace %s\n", ip, trace.ID(r.Context()))
	})
	return tr.Handler(sec.Handler(rl.Handler(mux))), nil
}

// reverseProxy forwards to the app, appending the client's address to
// X-Forwarded-For (after what earlier proxies wrote) and setting
// X-Forwarded-Proto to https.
func reverseProxy(target *url.URL) *httputil.ReverseProxy {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: proxyAddr.AsSlice()}, Timeout: 5 * time.Second}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			// Keep what is already there (a CDN in front), then append: the
			// app reads it right to left and stops at the first untrusted hop.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
		},
		Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 16},
	}
}

func main() {
	proxyListen := flag.String("addr", "127.0.0.1:8443", "proxy (HTTPS) listen address")
	appListen := flag.String("app", "127.0.0.1:8088", "app (HTTP) listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *proxyListen, *appListen, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

// Started is what run reports once both servers accept connections.
type Started struct {
	ProxyURL, AppURL string
	Cert             *x509.Certificate // the proxy's self-signed certificate
}

// run serves the proxy (HTTPS, an ephemeral self-signed certificate) and
// the app (HTTP) until ctx is done.
func run(ctx context.Context, proxyListen, appListen string, logOut io.Writer, ready chan<- Started) error {
	logger := slog.New(trace.NewLogHandler(slog.NewTextHandler(logOut, nil)))
	h, err := app(logger)
	if err != nil {
		return err
	}
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	appLn, err := net.Listen("tcp", appListen)
	if err != nil {
		return err
	}
	proxyLn, err := net.Listen("tcp", proxyListen)
	if err != nil {
		appLn.Close()
		return err
	}
	appURL := &url.URL{Scheme: "http", Host: appLn.Addr().String()}
	rp := reverseProxy(appURL)
	defer rp.Transport.(*http.Transport).CloseIdleConnections()
	servers := []*http.Server{
		{Handler: h, ReadHeaderTimeout: 5 * time.Second},
		{Handler: rp, ReadHeaderTimeout: 5 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}},
	}
	proxyURL := "https://" + proxyLn.Addr().String()
	logger.Info("listening", "proxy", proxyURL, "app", appURL.String())
	if ready != nil {
		ready <- Started{ProxyURL: proxyURL, AppURL: appURL.String(), Cert: cert.Leaf}
	}
	errc := make(chan error, 2)
	go func() { errc <- servers[0].Serve(appLn) }()
	go func() { errc <- servers[1].ServeTLS(proxyLn, "", "") }()
	var errs []error
	pending := cap(errc)
	select {
	case err := <-errc:
		errs, pending = append(errs, err), pending-1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		errs = append(errs, s.Shutdown(shutdown))
	}
	for range pending {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// selfSigned makes a throwaway certificate for localhost and 127.0.0.1.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "httpmw proxy demo"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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
