// Package header holds the one parser of each kind of HTTP field value that
// the httpmw packages share (RFC 9110 §5.6): comma-separated lists with quoted
// strings and empty elements, parameters, q-values (§12.4.2), media ranges
// (§12.5.1), entity-tag lists (§8.8.3) and the Vary merge (§12.5.5), which
// keeps Vary one line (§5.3) from a bounded table of joined lines.
//
// The parsers never allocate for well-formed input and never panic; callers
// bound the input length with MaxLen before parsing untrusted headers.
package header
