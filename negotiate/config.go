package negotiate

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jiec/httpmw/internal/header"
	"github.com/jiec/httpmw/internal/problem"
)

// Config configures the negotiation middleware. New validates it and copies
// it: changing a Config (or its slices) after New has no effect. At least
// one of Types, Languages and Charsets must be set; each one set is a
// dimension the middleware negotiates.
type Config struct {
	// Types are the media types the handler can produce, most preferred
	// first, negotiated against Accept: concrete types with optional
	// parameters ("application/json", "text/html", "text/csv;header=present"),
	// no wildcards and no "q" parameter. Result(ctx).MediaType is one of
	// them, exactly as written here.
	Types []string

	// Languages are the language tags the handler can produce, most
	// preferred first ("en-GB", "fr", "zh-Hant"), negotiated against
	// Accept-Language. The chosen one is also sent as Content-Language
	// (before the handler runs, so the handler can replace or delete it),
	// unless the field is already set.
	Languages []string

	// Charsets are the charsets the handler can produce, most preferred
	// first ("utf-8", "iso-8859-1"), negotiated against Accept-Charset.
	Charsets []string

	// Fallback answers a request that accepts none of the offers of a
	// dimension with that dimension's first offer (RFC 9110 §12.1 lets a
	// server disregard the Accept fields) instead of 406 Not Acceptable.
	// Result(ctx).Fallback then reports it. The default is 406.
	Fallback bool

	// LookupOnly matches languages by RFC 4647 Lookup alone: a request
	// for "zh-Hant-TW" still gets a "zh-Hant" or "zh" offer, but a request
	// for "en" no longer gets an "en-GB" offer (basic filtering, RFC 4647
	// §3.3.1, the HTTP/1.1 scheme of RFC 2616, is on by default). A q=0
	// range excludes every tag it is a prefix of either way.
	LookupOnly bool

	// ErrorHandler answers requests that accept none of the offers (when
	// Fallback is off). err is a *NotAcceptableError (errors.Is(err,
	// ErrNotAcceptable)) naming the field. Vary is already set. The default
	// writes a 406 application/problem+json document listing the offers
	// under "available".
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// ErrNotAcceptable is what every NotAcceptableError matches with errors.Is.
var ErrNotAcceptable = errors.New("negotiate: not acceptable")

// NotAcceptableError reports the request field none of the offers satisfy.
type NotAcceptableError struct {
	Field string // "Accept", "Accept-Language" or "Accept-Charset"
}

func (e *NotAcceptableError) Error() string {
	return "negotiate: " + e.Field + " accepts none of the offers"
}

// Is makes errors.Is(err, ErrNotAcceptable) true.
func (e *NotAcceptableError) Is(target error) bool { return target == ErrNotAcceptable }

// Dimensions, in the order they are negotiated.
const (
	dimType = iota
	dimLanguage
	dimCharset
	numDims
)

var fieldNames = [numDims]string{"Accept", "Accept-Language", "Accept-Charset"}

// compiled is the validated, precomputed form of a Config.
type compiled struct {
	types      []mediaOffer
	typeNames  []string // the offers as configured, for Result
	languages  []string
	charsets   []string
	fallback   bool
	lookupOnly bool
	varyNames  []string // the negotiated fields, for Vary ("Accept", "Accept-Language")
	errs       [numDims]error
	errHandler func(http.ResponseWriter, *http.Request, error)
	notAccept  *problem.Prepared
}

func fieldErr(field, problem, value string) error {
	return fmt.Errorf("negotiate: %s: %s (value %q)", field, problem, value)
}

func compile(cfg *Config) (*compiled, error) {
	c := &compiled{fallback: cfg.Fallback, lookupOnly: cfg.LookupOnly, errHandler: cfg.ErrorHandler}
	var errs []error
	seen := map[string]bool{}
	dup := func(field, s string) bool {
		k := field + "\x00" + strings.ToLower(s)
		if seen[k] {
			errs = append(errs, fieldErr(field, "listed twice", s))
			return true
		}
		seen[k] = true
		return false
	}
	for _, s := range cfg.Types {
		o, ok := parseMediaOffer(s)
		switch {
		case !ok:
			errs = append(errs, fieldErr("Types", "not a media type (type/subtype with optional parameters, no wildcards, no q)", s))
		case !dup("Types", s):
			c.types = append(c.types, o)
			c.typeNames = append(c.typeNames, s)
		}
	}
	for _, s := range cfg.Languages {
		switch {
		case !header.IsLanguageTag(s):
			errs = append(errs, fieldErr("Languages", "not a language tag (1*8ALPHA *(\"-\" 1*8alphanum), no \"*\")", s))
		case !dup("Languages", s):
			c.languages = append(c.languages, s)
		}
	}
	for _, s := range cfg.Charsets {
		switch {
		case !header.IsToken(s) || s == "*":
			errs = append(errs, fieldErr("Charsets", "not a charset name (a token, no \"*\")", s))
		case !dup("Charsets", s):
			c.charsets = append(c.charsets, s)
		}
	}
	if len(cfg.Types)+len(cfg.Languages)+len(cfg.Charsets) == 0 {
		errs = append(errs, errors.New("negotiate: Types, Languages, Charsets: at least one offer is required"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	available := map[string]any{}
	if len(c.types) > 0 {
		c.varyNames = append(c.varyNames, fieldNames[dimType])
		available["types"] = append([]string(nil), cfg.Types...)
	}
	if len(c.languages) > 0 {
		c.varyNames = append(c.varyNames, fieldNames[dimLanguage])
		available["languages"] = append([]string(nil), c.languages...)
	}
	if len(c.charsets) > 0 {
		c.varyNames = append(c.varyNames, fieldNames[dimCharset])
		available["charsets"] = append([]string(nil), c.charsets...)
	}
	for d := range c.errs {
		c.errs[d] = &NotAcceptableError{Field: fieldNames[d]}
	}
	c.notAccept = problem.Prepare(problem.Details{
		Status:     http.StatusNotAcceptable,
		Detail:     "None of the available representations matches the request's Accept, Accept-Language or Accept-Charset fields.",
		Extensions: map[string]any{"available": available},
	})
	return c, nil
}
