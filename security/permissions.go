package security

import (
	"fmt"
	"net/url"
	"strings"
)

// Allowlist members of a Permissions-Policy feature besides origins.
const (
	// AllowAll allows the feature in every origin (serialized as *).
	AllowAll = "*"
	// AllowSelf allows the feature in the page's own origin (serialized as
	// the token self; CSP's quoted 'self' is a different syntax and rejected).
	AllowSelf = "self"
)

// Permissions is a Permissions-Policy (W3C Permissions Policy, a Structured
// Field dictionary, RFC 9651): features mapped to allowlists. Build one with
// DefaultPermissions or from the zero value with Set and Del; each returns a
// new value and never changes the receiver. New validates the result.
type Permissions struct {
	features dirList // Name: feature, Values: allowlist
}

// DefaultPermissions returns the Permissions-Policy used when
// Config.Permissions is the zero value: the powerful features a typical web
// app or API does not use are disabled for the page and every frame in it:
//
//	accelerometer=(), browsing-topics=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), payment=(), serial=(), usb=()
func DefaultPermissions() Permissions {
	var p Permissions
	for _, f := range []string{
		"accelerometer", "browsing-topics", "camera", "display-capture", "geolocation", "gyroscope",
		"hid", "magnetometer", "microphone", "midi", "payment", "serial", "usb",
	} {
		p = p.Set(f)
	}
	return p
}

// Set returns a copy of p in which feature has allowlist: no members disables
// the feature (feature=()), AllowAll enables it everywhere, otherwise list
// AllowSelf and/or origins such as "https://maps.example". A feature already
// in p keeps its position.
func (p Permissions) Set(feature string, allowlist ...string) Permissions {
	return Permissions{features: p.features.set(feature, allowlist)}
}

// Del returns a copy of p without feature (the browser default applies).
func (p Permissions) Del(feature string) Permissions {
	return Permissions{features: p.features.del(feature)}
}

// IsZero reports whether p has no features.
func (p Permissions) IsZero() bool { return len(p.features) == 0 }

// String returns the header value (as sent once New accepted p).
func (p Permissions) String() string {
	var b strings.Builder
	for i, f := range p.features {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		b.WriteByte('=')
		if len(f.Values) == 1 && f.Values[0] == AllowAll {
			b.WriteString(AllowAll)
			continue
		}
		b.WriteByte('(')
		for j, v := range f.Values {
			if j > 0 {
				b.WriteByte(' ')
			}
			if v == AllowSelf {
				b.WriteString(v)
			} else {
				b.WriteByte('"')
				b.WriteString(v)
				b.WriteByte('"')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// validatePermissions checks feature names (Structured Field keys) and
// allowlists.
func validatePermissions(p Permissions) []error {
	var errs []error
	bad := func(format string, v string) {
		errs = append(errs, fmt.Errorf("security: Permissions: "+format+" (value %q)", v))
	}
	for _, f := range p.features {
		if !isSFKey(f.Name) {
			bad("feature name must be a lowercase structured-field key such as geolocation", f.Name)
			continue
		}
		for _, v := range f.Values {
			switch {
			case v == AllowAll:
				if len(f.Values) > 1 {
					bad(f.Name+": * must be the only member", strings.Join(f.Values, " "))
				}
			case v == AllowSelf:
			case strings.EqualFold(v, "'self'") || strings.EqualFold(v, "'none'") || strings.EqualFold(v, "none"):
				bad(f.Name+": Permissions-Policy is not CSP: write self, or no members for none", v)
			case !isOrigin(v):
				bad(f.Name+": allowlist member must be *, self or a serialized origin such as https://a.example", v)
			}
		}
	}
	return errs
}

// isSFKey checks key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ).
func isSFKey(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || isDigit(c) || strings.IndexByte("_-.*", c) >= 0) {
			return false
		}
	}
	return true
}

// isOrigin reports whether s is an ASCII serialized origin: scheme://host[:port]
// with no path, query, fragment or user info, and nothing a structured-field
// string cannot carry.
func isOrigin(s string) bool {
	if !cleanValue(s) || strings.ContainsAny(s, `"\`) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Path != "" ||
		u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return false
	}
	return u.Scheme == strings.ToLower(u.Scheme) && u.Host == strings.ToLower(u.Host)
}
