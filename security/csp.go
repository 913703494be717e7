package security

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Directive names of Content-Security-Policy (CSP Level 3, Trusted Types,
// Upgrade Insecure Requests). Policy.Set accepts these; New rejects any other
// name.
const (
	DefaultSrc              = "default-src"
	ScriptSrc               = "script-src"
	ScriptSrcElem           = "script-src-elem"
	ScriptSrcAttr           = "script-src-attr"
	StyleSrc                = "style-src"
	StyleSrcElem            = "style-src-elem"
	StyleSrcAttr            = "style-src-attr"
	ImgSrc                  = "img-src"
	FontSrc                 = "font-src"
	ConnectSrc              = "connect-src"
	MediaSrc                = "media-src"
	ObjectSrc               = "object-src"
	FrameSrc                = "frame-src"
	ChildSrc                = "child-src"
	WorkerSrc               = "worker-src"
	ManifestSrc             = "manifest-src"
	FencedFrameSrc          = "fenced-frame-src"
	BaseURI                 = "base-uri"
	FormAction              = "form-action"
	FrameAncestors          = "frame-ancestors"
	Sandbox                 = "sandbox"
	ReportURI               = "report-uri"
	ReportTo                = "report-to"
	UpgradeInsecureRequests = "upgrade-insecure-requests"
	RequireTrustedTypesFor  = "require-trusted-types-for"
	TrustedTypes            = "trusted-types"
	WebRTC                  = "webrtc"
)

// Source keywords. CSP keywords are quoted: Self is "'self'", not "self" (an
// unquoted self would be a host name, and New rejects it).
const (
	Self                   = "'self'"
	None                   = "'none'"
	StrictDynamic          = "'strict-dynamic'"
	UnsafeInline           = "'unsafe-inline'"
	UnsafeEval             = "'unsafe-eval'"
	UnsafeHashes           = "'unsafe-hashes'"
	WasmUnsafeEval         = "'wasm-unsafe-eval'"
	ReportSample           = "'report-sample'"
	InlineSpeculationRules = "'inline-speculation-rules'"

	// RequestNonce stands for the per-request nonce. In default-src,
	// script-src(-elem) or style-src(-elem) it is replaced on every response
	// by 'nonce-<value>', where <value> is what Nonce(ctx) returns: 128 bits
	// from crypto/rand, base64-encoded.
	RequestNonce = "'nonce'"
)

// Directive is one directive of a Policy: a name and its values (source
// expressions, sandbox flags, ...), in order.
type Directive struct {
	Name   string
	Values []string
}

// Policy is a Content-Security-Policy: an ordered list of directives. Build one
// with DefaultPolicy or from the zero Policy with Set, Add and Del; each
// returns a new Policy and never changes the receiver, so policies can be
// shared and derived from one another. New validates the result.
type Policy struct {
	dirs dirList
}

// DefaultPolicy returns the policy used when Config.CSP is the zero Policy:
//
//	default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; form-action 'self'
//
// Scripts, styles, images, fonts and connections load from the page's own
// origin only; inline scripts and styles, plugins, <base> hijacking, framing by
// other sites and form posts to other sites are blocked. Add
// Set(ScriptSrc, RequestNonce, StrictDynamic) to allow nonce-bearing inline
// scripts.
func DefaultPolicy() Policy {
	return Policy{}.
		Set(DefaultSrc, Self).
		Set(BaseURI, Self).
		Set(ObjectSrc, None).
		Set(FrameAncestors, Self).
		Set(FormAction, Self)
}

// Set returns a copy of p in which directive name has exactly values (for
// directives without values, such as upgrade-insecure-requests, pass none).
// A directive already in p keeps its position; a new one goes last.
func (p Policy) Set(name string, values ...string) Policy {
	return Policy{dirs: p.dirs.set(strings.ToLower(name), values)}
}

// Add returns a copy of p with values appended to directive name. A missing
// directive is created with just values; note that a new fetch directive
// (img-src, ...) replaces the default-src fallback for its resource type, so
// include Self in values when the page's own origin should stay allowed.
func (p Policy) Add(name string, values ...string) Policy {
	name = strings.ToLower(name)
	if i := p.dirs.index(name); i >= 0 {
		values = append(slices.Clone(p.dirs[i].Values), values...)
	}
	return p.Set(name, values...)
}

// Del returns a copy of p without directive name.
func (p Policy) Del(name string) Policy {
	return Policy{dirs: p.dirs.del(strings.ToLower(name))}
}

// Get returns a copy of the values of directive name and whether p has it.
func (p Policy) Get(name string) ([]string, bool) {
	i := p.index(strings.ToLower(name))
	if i < 0 {
		return nil, false
	}
	return slices.Clone(p.dirs[i].Values), true
}

// Directives returns a copy of p's directives in order.
func (p Policy) Directives() []Directive {
	out := make([]Directive, len(p.dirs))
	for i, d := range p.dirs {
		out[i] = Directive{Name: d.Name, Values: slices.Clone(d.Values)}
	}
	return out
}

// IsZero reports whether p has no directives.
func (p Policy) IsZero() bool { return len(p.dirs) == 0 }

// String returns the header value, with RequestNonce still in place.
func (p Policy) String() string {
	var b strings.Builder
	for i, d := range p.dirs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.Name)
		for _, v := range d.Values {
			b.WriteByte(' ')
			b.WriteString(v)
		}
	}
	return b.String()
}

func (p Policy) index(name string) int { return p.dirs.index(name) }

// dirList is the ordered name → values list behind Policy and Permissions.
// Its methods never modify the receiver's backing arrays.
type dirList []Directive

func (l dirList) index(name string) int {
	return slices.IndexFunc(l, func(d Directive) bool { return d.Name == name })
}

// set returns a copy of l where name has values; a new name goes last.
func (l dirList) set(name string, values []string) dirList {
	d := Directive{Name: name, Values: slices.Clone(values)}
	out := slices.Clone(l)
	if i := l.index(name); i >= 0 {
		out[i] = d
	} else {
		out = append(out, d)
	}
	return out
}

// del returns l without name.
func (l dirList) del(name string) dirList {
	if i := l.index(name); i >= 0 {
		return slices.Delete(slices.Clone(l), i, i+1)
	}
	return l
}

// directive kinds: how the values of a directive are validated.
type dirKind uint8

const (
	kindFetch     dirKind = iota // source list with keywords, nonces, hashes
	kindDocument                 // base-uri, form-action: source list, no nonces/hashes
	kindAncestors                // frame-ancestors: 'self', 'none', hosts, schemes
	kindSandbox
	kindReportURI
	kindReportTo
	kindNoValue
	kindRequireTT
	kindTrustedTypes
	kindWebRTC
)

var directives = map[string]dirKind{
	DefaultSrc: kindFetch, ScriptSrc: kindFetch, ScriptSrcElem: kindFetch, ScriptSrcAttr: kindFetch,
	StyleSrc: kindFetch, StyleSrcElem: kindFetch, StyleSrcAttr: kindFetch, ImgSrc: kindFetch,
	FontSrc: kindFetch, ConnectSrc: kindFetch, MediaSrc: kindFetch, ObjectSrc: kindFetch,
	FrameSrc: kindFetch, ChildSrc: kindFetch, WorkerSrc: kindFetch, ManifestSrc: kindFetch,
	FencedFrameSrc: kindFetch,
	BaseURI:        kindDocument, FormAction: kindDocument,
	FrameAncestors: kindAncestors, Sandbox: kindSandbox,
	ReportURI: kindReportURI, ReportTo: kindReportTo,
	UpgradeInsecureRequests: kindNoValue,
	RequireTrustedTypesFor:  kindRequireTT, TrustedTypes: kindTrustedTypes,
	WebRTC: kindWebRTC,
}

// obsolete directives get a specific error message.
var obsolete = map[string]string{
	"block-all-mixed-content": "obsolete; use upgrade-insecure-requests",
	"plugin-types":            "obsolete; use object-src 'none'",
	"prefetch-src":            "removed from CSP",
	"navigate-to":             "removed from CSP",
	"referrer":                "obsolete; use the Referrer-Policy header",
	"reflected-xss":           "obsolete",
	"disown-opener":           "obsolete; use Cross-Origin-Opener-Policy",
	"require-sri-for":         "obsolete",
}

// keywords lists the quoted source keywords, with the directives kinds that
// may carry the script-only ones.
var keywords = map[string]bool{
	Self: true, None: true, StrictDynamic: true, UnsafeInline: true, UnsafeEval: true,
	UnsafeHashes: true, WasmUnsafeEval: true, ReportSample: true, InlineSpeculationRules: true,
	"'unsafe-allow-redirects'": true, "'trusted-types-eval'": true, "'report-sha256'": true,
	"'report-sha384'": true, "'report-sha512'": true,
}

var sandboxFlags = map[string]bool{
	"allow-downloads": true, "allow-forms": true, "allow-modals": true, "allow-orientation-lock": true,
	"allow-pointer-lock": true, "allow-popups": true, "allow-popups-to-escape-sandbox": true,
	"allow-presentation": true, "allow-same-origin": true, "allow-scripts": true,
	"allow-top-navigation": true, "allow-top-navigation-by-user-activation": true,
	"allow-top-navigation-to-custom-protocols": true, "allow-storage-access-by-user-activation": true,
}

// nonceDirectives may hold nonces (RequestNonce or static ones) and hashes.
var nonceDirectives = map[string]bool{
	DefaultSrc: true, ScriptSrc: true, ScriptSrcElem: true, StyleSrc: true, StyleSrcElem: true,
	ScriptSrcAttr: true, StyleSrcAttr: true, // hashes with 'unsafe-hashes'
}

// validatePolicy returns every problem of p; field names the Config field,
// endpoints the Reporting-Endpoints names report-to may reference.
func validatePolicy(field string, p Policy, enforced bool, endpoints map[string]bool) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("security: %s: "+format, append([]any{field}, args...)...))
	}
	if enforced && p.index(DefaultSrc) < 0 {
		bad("missing default-src: without it every resource type the policy does not name is unrestricted (value %q)", p.String())
	}
	for _, d := range p.dirs {
		kind, known := directives[d.Name]
		if !known {
			if why, ok := obsolete[d.Name]; ok {
				bad("directive %s is %s (value %q)", d.Name, why, d.Name)
			} else {
				bad("unknown directive (value %q)", d.Name)
			}
			continue
		}
		ok := true
		for _, v := range d.Values {
			if !cleanValue(v) {
				bad("%s: value contains a control character, white space, ';', ',' or non-ASCII byte (value %q)", d.Name, v)
				ok = false
			}
		}
		if !ok {
			continue
		}
		switch kind {
		case kindFetch, kindDocument, kindAncestors:
			errs = append(errs, validateSources(field, d, kind)...)
		case kindSandbox:
			if !enforced {
				// CSP3 §6.3.2: "This directive is ignored when delivered in
				// a report-only policy."
				bad("sandbox is ignored in a report-only policy; move it to the enforced policy (value %q)", strings.Join(append([]string{d.Name}, d.Values...), " "))
			}
			for _, v := range d.Values {
				if !sandboxFlags[strings.ToLower(v)] {
					bad("sandbox: unknown flag (value %q)", v)
				}
			}
		case kindReportURI:
			if len(d.Values) == 0 {
				bad("report-uri needs at least one URI (value %q)", d.Name)
			}
			for _, v := range d.Values {
				if !validReportURI(v) {
					bad("report-uri: want an absolute http(s) URL or a relative path (value %q)", v)
				}
			}
		case kindReportTo:
			if len(d.Values) != 1 {
				bad("report-to takes exactly one endpoint name (value %q)", strings.Join(d.Values, " "))
			} else if !endpoints[d.Values[0]] {
				bad("report-to names no endpoint of ReportingEndpoints (value %q)", d.Values[0])
			}
		case kindNoValue:
			if len(d.Values) != 0 {
				bad("%s takes no value (value %q)", d.Name, strings.Join(d.Values, " "))
			}
		case kindRequireTT:
			if len(d.Values) != 1 || d.Values[0] != "'script'" {
				bad("require-trusted-types-for takes exactly 'script' (value %q)", strings.Join(d.Values, " "))
			}
		case kindTrustedTypes:
			for _, v := range d.Values {
				if v != None && v != "'allow-duplicates'" && v != "*" && !isTTPolicyName(v) {
					bad("trusted-types: invalid policy name or keyword (value %q)", v)
				}
			}
			if slices.Contains(d.Values, None) && len(d.Values) > 1 {
				bad("trusted-types: 'none' must be alone (value %q)", strings.Join(d.Values, " "))
			}
		case kindWebRTC:
			if len(d.Values) != 1 || (d.Values[0] != "'allow'" && d.Values[0] != "'block'") {
				bad("webrtc takes 'allow' or 'block' (value %q)", strings.Join(d.Values, " "))
			}
		}
	}
	return errs
}

// validReportURI accepts what report-uri is for: an absolute http or https
// URL with a host and no userinfo, or a relative path ("/csp", "csp");
// never another scheme (javascript:, data:) or a scheme-relative "//host".
func validReportURI(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.User != nil {
		return false
	}
	if u.Scheme == "" {
		return u.Host == "" && u.Opaque == "" && u.Path != "" && !strings.HasPrefix(v, "//")
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == ""
}

// validateSources checks a source list.
func validateSources(field string, d Directive, kind dirKind) []error {
	var errs []error
	bad := func(format string, v string) {
		errs = append(errs, fmt.Errorf("security: %s: %s: "+format+" (value %q)", field, d.Name, v))
	}
	if len(d.Values) == 0 {
		bad("needs at least one source; write 'none' to allow nothing", "")
		return errs
	}
	if slices.ContainsFunc(d.Values, func(v string) bool { return strings.EqualFold(v, None) }) && len(d.Values) > 1 {
		bad("'none' must be the only source", strings.Join(d.Values, " "))
	}
	hasNonceOrHash := false
	for _, v := range d.Values {
		lv := strings.ToLower(v)
		switch {
		case v == RequestNonce:
			if kind != kindFetch || !nonceDirectives[d.Name] || strings.HasSuffix(d.Name, "-attr") {
				bad("the request nonce only applies to default-src, script-src(-elem) and style-src(-elem)", v)
			}
			hasNonceOrHash = true
		case strings.HasPrefix(lv, "'nonce-"):
			if kind != kindFetch || !nonceDirectives[d.Name] || strings.HasSuffix(d.Name, "-attr") {
				bad("nonces only apply to default-src, script-src(-elem) and style-src(-elem)", v)
			} else if !validNonce(v) {
				bad("malformed nonce: want 'nonce-<base64 of at least 16 bytes>'", v)
			}
			hasNonceOrHash = true
		case strings.HasPrefix(lv, "'sha256-") || strings.HasPrefix(lv, "'sha384-") || strings.HasPrefix(lv, "'sha512-"):
			if kind != kindFetch || !nonceDirectives[d.Name] {
				bad("hashes only apply to default-src, script-src* and style-src*", v)
			} else if !validHash(v) {
				bad("malformed hash: want 'shaNNN-<base64 of the NNN-bit digest>'", v)
			}
			hasNonceOrHash = true
		case len(v) > 1 && v[0] == '\'':
			if !keywords[lv] {
				bad("unknown keyword", v)
				continue
			}
			if kind == kindAncestors && lv != Self && lv != None {
				bad("frame-ancestors accepts only 'self', 'none', hosts and schemes", v)
			}
			if lv == StrictDynamic && d.Name != DefaultSrc && d.Name != ScriptSrc && d.Name != ScriptSrcElem {
				bad("'strict-dynamic' only applies to script-src, script-src-elem and default-src", v)
			}
		case isBareKeyword(lv):
			bad("keyword must be quoted: write '"+lv+"'", v)
		case !validSourceExpression(v):
			bad("invalid source expression: want a keyword in single quotes, a scheme (https:), or a host source (https://*.example.com:443/path)", v)
		}
	}
	if slices.ContainsFunc(d.Values, func(v string) bool { return strings.EqualFold(v, StrictDynamic) }) && !hasNonceOrHash {
		bad("'strict-dynamic' needs a nonce or hash source in the same directive, or no script can load", strings.Join(d.Values, " "))
	}
	return errs
}

// cleanValue reports whether v is non-empty visible ASCII without ';' or ','.
func cleanValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' {
			return false
		}
	}
	return true
}

// isBareKeyword reports whether lv is a keyword, nonce or hash missing its
// quotes (helmet#454: an unquoted self is a host name and silently useless).
func isBareKeyword(lv string) bool {
	if keywords["'"+lv+"'"] || lv == "nonce" {
		return true
	}
	for _, p := range []string{"nonce-", "sha256-", "sha384-", "sha512-"} {
		if strings.HasPrefix(lv, p) {
			return true
		}
	}
	return false
}

// isBase64Value reports whether s matches CSP's base64-value:
// 1*( ALPHA / DIGIT / "+" / "/" / "-" / "_" )*2( "=" ).
func isBase64Value(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" || len(s)-len(body) > 2 {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validNonce checks 'nonce-<base64-value>' with at least 128 bits.
func validNonce(v string) bool {
	if len(v) < len("'nonce-'") || v[len(v)-1] != '\'' {
		return false
	}
	b := v[len("'nonce-") : len(v)-1]
	return isBase64Value(b) && len(strings.TrimRight(b, "="))*6 >= 128
}

// validHash checks 'shaNNN-<base64 digest>' and the digest length.
func validHash(v string) bool {
	if len(v) < len("'sha256-'") || v[len(v)-1] != '\'' {
		return false
	}
	var size int
	switch strings.ToLower(v[1:8]) {
	case "sha256-":
		size = 32
	case "sha384-":
		size = 48
	case "sha512-":
		size = 64
	default:
		return false
	}
	b := v[len("'sha256-") : len(v)-1]
	if !isBase64Value(b) {
		return false
	}
	body := strings.TrimRight(b, "=")
	if pad := len(b) - len(body); pad > 0 && len(b)%4 != 0 {
		return false
	}
	body = strings.NewReplacer("-", "+", "_", "/").Replace(body)
	raw, err := base64.RawStdEncoding.DecodeString(body)
	return err == nil && len(raw) == size
}

// validSourceExpression checks scheme-source and host-source (CSP3 §2.3.1):
//
//	scheme-source = scheme ":"
//	host-source   = [ scheme "://" ] host-part [ ":" port-part ] [ path-part ]
func validSourceExpression(v string) bool {
	if i := strings.IndexByte(v, ':'); i > 0 && i == len(v)-1 {
		return isScheme(v[:i])
	}
	rest := v
	if i := strings.Index(v, "://"); i >= 0 {
		if !isScheme(v[:i]) {
			return false
		}
		rest = v[i+3:]
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		port := host[i+1:]
		host = host[:i]
		if port != "*" && (port == "" || strings.Trim(port, "0123456789") != "") {
			return false
		}
	}
	if !isHostPart(host) {
		return false
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c == '"' || c == '\'' || c == '\\' || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// isHostPart checks host-part = "*" / [ "*." ] 1*host-char *( "." 1*host-char ) [ "." ].
func isHostPart(h string) bool {
	if h == "*" {
		return true
	}
	h = strings.TrimPrefix(h, "*.")
	h = strings.TrimSuffix(h, ".")
	if h == "" {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlpha(c) && !isDigit(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func isTTPolicyName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && !strings.ContainsRune("-#=_/@.%", rune(c)) {
			return false
		}
	}
	return s != ""
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
