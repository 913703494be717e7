package negotiate

import (
	"net/http"

	"github.com/jiec/httpmw/internal/header"
)

// MediaType returns the offer the request's Accept field prefers
// (RFC 9110 §12.5.1), and false when none is acceptable. Offers are
// concrete media types with optional parameters ("text/html",
// "application/json", "text/html;level=1"), in the server's order of
// preference; malformed ones are never chosen. Without a usable Accept
// field the first well-formed offer is returned. The matching rules are the
// middleware's (see the package documentation). The caller adds
// "Vary: Accept" to the response.
func MediaType(r *http.Request, offers ...string) (string, bool) {
	v := fieldValues(r, "Accept")
	if len(v) == 0 || (len(v) == 1 && v[0] == "*/*") {
		// No preference (curl and many clients send "*/*"): the first
		// well-formed offer, without scoring.
		for _, s := range offers {
			if _, ok := parseMediaOffer(s); ok {
				return s, true
			}
		}
		return "", false
	}
	var obuf [stackStandalone]mediaOffer
	var sbuf [stackStandalone]score
	os, sc := obuf[:0], sbuf[:0]
	if len(offers) > stackStandalone {
		os, sc = make([]mediaOffer, 0, len(offers)), make([]score, 0, len(offers))
	}
	first := -1
	for i, s := range offers {
		o, ok := parseMediaOffer(s)
		if ok && first < 0 {
			first = i
		}
		os = append(os, o)
	}
	sc = sc[:len(offers)]
	return choose(offers, first, scoreMedia(v, os, sc))
}

// Language returns the offered language tag the request's Accept-Language
// field prefers (RFC 9110 §12.5.4 with RFC 4647 lookup and basic
// filtering), and false when none is acceptable. Offers are language tags
// ("en-GB", "zh-Hant") in the server's order of preference; malformed ones
// are never chosen. Without a usable Accept-Language field the first
// well-formed offer is returned. The caller adds "Vary: Accept-Language"
// and, usually, Content-Language.
func Language(r *http.Request, offers ...string) (string, bool) {
	var buf [stackStandalone]string
	var sbuf [stackStandalone]score
	os, sc := buf[:0], sbuf[:0]
	if len(offers) > stackStandalone {
		os, sc = make([]string, 0, len(offers)), make([]score, 0, len(offers))
	}
	first := -1
	for i, s := range offers {
		if !header.IsLanguageTag(s) {
			s = ""
		} else if first < 0 {
			first = i
		}
		os = append(os, s)
	}
	sc = sc[:len(offers)]
	idx := noPreference
	if v := fieldValues(r, "Accept-Language"); len(v) > 0 {
		idx = scoreLanguages(v, os, false, sc)
	}
	return choose(offers, first, idx)
}

// Charset returns the offered charset the request's Accept-Charset field
// prefers (RFC 9110 §12.5.2), and false when none is acceptable. Offers are
// charset names ("utf-8"), compared case-insensitively, in the server's
// order of preference. Without a usable Accept-Charset field the first
// well-formed offer is returned. The caller adds "Vary: Accept-Charset".
func Charset(r *http.Request, offers ...string) (string, bool) {
	var buf [stackStandalone]string
	var sbuf [stackStandalone]score
	os, sc := buf[:0], sbuf[:0]
	if len(offers) > stackStandalone {
		os, sc = make([]string, 0, len(offers)), make([]score, 0, len(offers))
	}
	first := -1
	for i, s := range offers {
		if !header.IsToken(s) || s == "*" {
			s = ""
		} else if first < 0 {
			first = i
		}
		os = append(os, s)
	}
	sc = sc[:len(offers)]
	idx := noPreference
	if v := fieldValues(r, "Accept-Charset"); len(v) > 0 {
		idx = scoreCharsets(v, os, sc)
	}
	return choose(offers, first, idx)
}

// choose turns a score outcome into the standalone functions' answer.
func choose(offers []string, first, idx int) (string, bool) {
	switch {
	case idx >= 0:
		return offers[idx], true
	case idx == noPreference && first >= 0:
		return offers[first], true
	}
	return "", false
}
