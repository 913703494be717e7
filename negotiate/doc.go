// Package negotiate does proactive content negotiation (RFC 9110 §12): it
// picks, for every request, the media type (Accept, §12.5.1), language
// (Accept-Language, §12.5.4 with RFC 4647) and charset (Accept-Charset,
// §12.5.2) of the response among the offers the handler can produce, and
// answers 406 Not Acceptable when the request accepts none of them.
// Accept-Encoding is the compress package's.
//
//	neg, err := negotiate.New(negotiate.Config{
//		Types:     []string{"application/json", "text/html", "text/csv"},
//		Languages: []string{"en", "fr"},
//	})
//	...
//	mux.Handle("/report", neg.Handler(report))
//
// The handler reads the outcome with Result(r.Context()): the chosen offers,
// exactly as configured (a media type with its parameters). MediaType,
// Language and Charset do the same negotiation without the middleware.
//
// # Matching
//
//   - A missing field means anything is acceptable: the first offer wins. So
//     does a field with no valid element (empty, or only malformed elements)
//     and a field longer than 8 KiB in total, which is ignored. Malformed
//     elements are skipped, never fatal; at most 128 elements are read.
//   - A q-value is "0" or "1" with at most three decimals, in 0..1; an
//     element with any other q ("q=2", "q=0.1234", "q=abc") is skipped.
//     q=0 means "not acceptable".
//   - The most specific range that matches an offer decides its weight:
//     for media types "text/html;level=1" > "text/html" > "text/*" > "*/*"
//     (each range parameter counts; all of them must be in the offer, with
//     equal values, quoted or not); for languages an exact tag, then the
//     longest matching prefix, then "*"; for charsets a name, then "*".
//     Among equally specific ranges the higher weight counts.
//   - Type, subtype, parameter names and values, language tags and charsets
//     are compared case-insensitively.
//   - The offer with the highest weight wins. Ties go to the offer matched
//     by the more specific range (so "application/json, */*" picks JSON
//     over a first offer of HTML), then to the server's order of offers.
//     The order of elements in the request is not significant.
//   - Languages (RFC 4647): Lookup, so a "zh-Hant-TW" range matches a
//     "zh-Hant" or "zh" offer; and basic filtering, so an "en" range matches
//     an "en-GB" offer (Config.LookupOnly turns this off). A q=0 range
//     excludes the tags it names or is a prefix of.
//
// # Responses
//
// The middleware merges Vary with the fields it negotiates (Accept,
// Accept-Language, Accept-Charset: those with offers configured) on every
// response: once, when the handler commits its status (or returns without
// writing), so a handler that replaces or deletes Vary keeps them, joined
// into one line with the other layers' names; a 406 gets them directly. It sets Content-Language to the
// chosen language unless the field is already there. The handler gets the
// shared internal writer wrapper: Flush, ReadFrom, 1xx responses and
// http.ResponseController (Hijack, deadlines) keep working.
//
// A nil or zero Middleware (New not called) passes requests through.
//
// When a request accepts no offer of a dimension, the default answer is 406
// with an application/problem+json document (RFC 9457) listing the offers
// under "available" (RFC 9110 §15.5.7); Config.ErrorHandler replaces it.
// With Config.Fallback the first offer is used instead, and
// Result(ctx).Fallback is true.
//
// # Cost
//
// Work is bounded: at most 8 KiB and 128 elements of a field are read, and
// a media range's parameters are compared with an offer's only up to the
// offer's own count (a parameter appears once, RFC 6838 §4.3), so hostile
// fields cost at most about 128 × k(k+1) parameter comparisons for an offer
// with k parameters. Negotiation allocates nothing (up to 16 offers per dimension in the
// middleware, 8 in the standalone functions); a
// negotiated request costs one allocation, holding the request copy with
// its context and the Vary and Content-Language values.
package negotiate
