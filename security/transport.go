package security

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/jiec/httpmw/internal/forwarded"
	"github.com/jiec/httpmw/internal/header"
)

// compileTransport checks and stores the trusted proxies and the redirect.
func (c *compiled) compileTransport(cfg Config, ck *checker) {
	for _, s := range cfg.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			ck.bad("TrustedProxies: %v (value %q)", err, s)
			continue
		}
		c.trusted = append(c.trusted, p)
	}
	for _, s := range cfg.RedirectHosts {
		h := strings.ToLower(strings.TrimSuffix(s, "."))
		if !validHostName(h) {
			ck.bad("RedirectHosts: want a host name or IP address without scheme or port (value %q)", s)
			continue
		}
		c.redirectHosts = append(c.redirectHosts, h)
	}
	switch p := cfg.RedirectPort; {
	case p == 0, p == 443: // https's default port: none in the URL
	case p > 0 && p <= 65535:
		c.redirectPort = ":" + strconv.Itoa(p)
	default:
		ck.bad("RedirectPort: must be 0 or a port number 1-65535 (value %q)", strconv.Itoa(p))
	}
	if cfg.RedirectPort != 0 && len(cfg.RedirectHosts) == 0 {
		ck.bad("RedirectPort: set without RedirectHosts, so nothing redirects (value %q)", strconv.Itoa(cfg.RedirectPort))
	}
}

// isSecure reports whether r arrived over HTTPS: directly (r.TLS), or through
// a trusted proxy that says so. A proxy usually manages only one of Forwarded
// and X-Forwarded-Proto and passes the other through from the client, so every
// one of the two that is present must say https: a client's claim in the
// header the proxy ignores cannot override what the proxy wrote in the other.
func (c *compiled) isSecure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if len(c.trusted) == 0 || !c.trustedPeer(r.RemoteAddr) {
		return false
	}
	fwd, xfp := r.Header["Forwarded"], r.Header["X-Forwarded-Proto"]
	if len(fwd) == 0 && len(xfp) == 0 {
		return false
	}
	if len(fwd) > 0 && !strings.EqualFold(forwardedProto(fwd, c.trustedAddr), "https") {
		return false
	}
	return len(xfp) == 0 || strings.EqualFold(lastElement(xfp), "https")
}

func (c *compiled) trustedPeer(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	return c.trustedAddr(ap.Addr())
}

func (c *compiled) trustedAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// lastElement returns the last element of a list header: the one the nearest
// proxy appended. Values over header.MaxLen count as absent.
func lastElement(values []string) string {
	if header.TotalLen(values) > header.MaxLen {
		return ""
	}
	last := ""
	for e := range header.Elements(values) {
		last = e
	}
	return last
}

// forwardedProto returns the proto parameter of the Forwarded element (RFC
// 7239 §4) written by the trusted proxy nearest the client, or "" when it is
// missing or that element is malformed (see forwarded.Proto: the walk goes
// right to left and never reads what the client wrote).
func forwardedProto(values []string, trusted func(netip.Addr) bool) string {
	return forwarded.Proto(values, trusted)
}

// redirect answers a plain-HTTP request with a redirect to HTTPS, or 421 when
// its host is not allowed. Both answers carry the static headers.
func (c *compiled) redirect(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	c.staticFields(h, false)
	if c.nonce {
		// The policy with a nonce is not among the static fields: without
		// it this answer would have no frame-ancestors, and no
		// X-Frame-Options either (left out next to frame-ancestors). The
		// ErrorHandler gets the request carrying the nonce.
		r = c.nonceFields(h, r)
	}
	host, port := splitHost(r.Host)
	lh := strings.ToLower(strings.TrimSuffix(host, "."))
	allowed := false
	for _, h := range c.redirectHosts {
		if h == lh {
			allowed = true
			break
		}
	}
	if !allowed || (port != "" && strings.Trim(port, "0123456789") != "") {
		c.errorHandler(w, r, &StatusError{Status: http.StatusMisdirectedRequest,
			Detail: "the host is not served over plain HTTP and not an allowed HTTPS redirect target"})
		return
	}
	if strings.IndexByte(lh, ':') >= 0 {
		lh = "[" + lh + "]"
	}
	lh += c.redirectPort // never the request's port: plain HTTP's port cannot also be TLS
	code := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		code = http.StatusMovedPermanently
	}
	uri := r.URL.RequestURI()
	if !strings.HasPrefix(uri, "/") {
		uri = "/" // OPTIONS *
	}
	h.Set("Location", "https://"+lh+uri)
	h.Set("Content-Length", "0")
	w.WriteHeader(code)
}

// splitHost splits a Host header value into host and port ("[::1]:80" →
// "::1", "80").
func splitHost(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
}

// parsePrefix parses an address ("192.0.2.7") or a prefix ("10.0.0.0/8").
// A prefix with host bits set is rejected as ambiguous.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errors.New("not an IP address or prefix")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, errors.New("not an IP address or prefix")
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("host bits set; did you mean %s", p.Masked())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// validHostName accepts DNS names (letters, digits, '-', '.') and IP
// addresses (IPv6 without brackets).
func validHostName(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Zone() == ""
	}
	return h != "" && isHostPart(h) && !strings.HasPrefix(h, "*")
}
