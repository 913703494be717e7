package httpmw_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// vary returns the Vary members of h, lower-cased, and an error if one is
// listed twice, "*" is not alone, or the field has more than one line.
func vary(h http.Header) (map[string]bool, error) {
	seen := map[string]bool{}
	for k, lines := range h {
		if !strings.EqualFold(k, "Vary") {
			continue
		}
		if k != "Vary" {
			return nil, fmt.Errorf("Vary under the non-canonical key %q", k)
		}
		// Token lists make one line (RFC 9110 §5.3), whoever added them.
		if len(lines) > 1 {
			return nil, fmt.Errorf("Vary in %d lines: %q", len(lines), lines)
		}
		for _, line := range lines {
			for _, v := range strings.Split(line, ",") {
				v = strings.ToLower(strings.TrimSpace(v))
				if v == "" {
					continue
				}
				if seen[v] {
					return nil, fmt.Errorf("Vary lists %q twice: %q", v, lines)
				}
				seen[v] = true
			}
		}
	}
	if seen["*"] && len(seen) > 1 {
		return nil, fmt.Errorf("Vary: * next to other members: %q", h.Values("Vary"))
	}
	return seen, nil
}

func hasTrace(r *resp) bool { return r.h.Get("X-Trace-Id") != "" }
func hasSecurity(r *resp) bool {
	return r.h.Get("X-Content-Type-Options") == "nosniff" && r.h.Get("Content-Security-Policy") != ""
}
func hasCORS(r *resp) bool { return r.h.Get("Access-Control-Allow-Origin") == origin }
func hasRateLimit(r *resp) bool {
	return r.h.Get("RateLimit") != "" && r.h.Get("RateLimit-Policy") != ""
}

// wantCode is the status every order must give each response.
func (rs *results) wantCode() map[*resp]int {
	return map[*resp]int{
		&rs.plain: 200, &rs.gzip: 200, &rs.notModified: 304, &rs.doc: 200, &rs.docNotModified: 304,
		&rs.put: 200, &rs.putStale: 412, &rs.preflight: 204, &rs.notAcceptable: 406, &rs.limited: 429,
		&rs.post: 201, &rs.replay: 201, &rs.retry: 422, &rs.slow: 200, &rs.conflict: 409, &rs.events: 200,
		&rs.varySet: 200, &rs.varyAdd: 200, &rs.varyRaw: 200, &rs.varyStar: 200,
	}
}

// check verifies the invariants that hold in every order.
func (rs *results) check() (errs []error) {
	bad := func(r *resp, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", r.name, fmt.Sprintf(format, a...)))
	}
	codes := rs.wantCode()
	for _, r := range rs.all {
		if r == &rs.ws || r == &rs.wsLegacy {
			continue
		}
		by := rs.answerer[r]
		if want := codes[r]; r.code != want {
			bad(r, "status %d, want %d (headers %v)", r.code, want, r.h)
			continue
		}
		// The body is what its author wrote, decoded once.
		switch {
		case r.code == 304 || r.code == 204:
			if len(r.raw) != 0 {
				bad(r, "%d with a %d-byte body", r.code, len(r.raw))
			}
			if cl := r.h.Get("Content-Length"); cl != "" && cl != "0" {
				bad(r, "%d with Content-Length %s", r.code, cl)
			}
		case r.code >= 400:
			var doc struct {
				Status  int    `json:"status"`
				TraceID string `json:"trace_id"`
			}
			if ct := r.h.Get("Content-Type"); ct != "application/problem+json" {
				bad(r, "Content-Type %q, want application/problem+json", ct)
			}
			if err := json.Unmarshal(r.body, &doc); err != nil || doc.Status != r.code {
				bad(r, "problem document %q: %v", r.body, err)
			}
			if rs.outside(lTrace, by) && doc.TraceID != r.h.Get("X-Trace-Id") {
				bad(r, "problem trace_id %q, X-Trace-Id %q", doc.TraceID, r.h.Get("X-Trace-Id"))
			}
		case rs.wantBody[r] != "":
			if string(r.body) != rs.wantBody[r] {
				bad(r, "body %.80q…, want %.80q…", r.body, rs.wantBody[r])
			}
		}
		if cl := r.h.Get("Content-Length"); cl != "" && r.code != 304 {
			if n, err := strconv.Atoi(cl); err != nil || n != len(r.raw) {
				bad(r, "Content-Length %s for %d bytes sent", cl, len(r.raw))
			}
		}
		// Decorations: every layer outside the one that answered.
		if rs.outside(lTrace, by) && !hasTrace(r) {
			bad(r, "no X-Trace-Id")
		}
		if rs.outside(lSecurity, by) && !hasSecurity(r) {
			bad(r, "no security headers")
		}
		if (rs.outside(lCORS, by) || by == lCORS) && !hasCORS(r) {
			bad(r, "Access-Control-Allow-Origin %q", r.h.Get("Access-Control-Allow-Origin"))
		}
		if rs.outside(lRatelimit, by) && !hasRateLimit(r) {
			bad(r, "no RateLimit fields")
		}
		// Vary: every dimension used, once.
		v, err := vary(r.h)
		if err != nil {
			bad(r, "%v", err)
			continue
		}
		used := by
		if r == &rs.replay {
			used = lHandler // replays the whole chain's fields
		}
		want := []string{}
		if rs.outside(lCORS, used) || used == lCORS {
			want = append(want, "origin")
		}
		if rs.outside(lCompress, used) || r.code == 304 {
			want = append(want, "accept-encoding")
		}
		if rs.outside(lNegotiate, used) || used == lNegotiate ||
			(r.code == 304 || r.code == 200 || r.code == 201) && rs.outside(lCache, used) && r != &rs.post {
			want = append(want, "accept")
		}
		switch r {
		case &rs.varySet, &rs.varyAdd, &rs.varyRaw:
			want = append(want, "cookie")
		case &rs.varyStar:
			if !v["*"] {
				bad(r, "Vary %q, want *", r.h.Values("Vary"))
			}
			want = nil
		}
		for _, d := range want {
			if !v[d] {
				bad(r, "Vary %q lacks %s", r.h.Values("Vary"), d)
			}
		}
	}

	// Compression where asked, once.
	if ce := rs.gzip.h.Get("Content-Encoding"); ce != "gzip" {
		bad(&rs.gzip, "Content-Encoding %q, want gzip", ce)
	}
	if ce := rs.plain.h.Get("Content-Encoding"); ce != "" {
		bad(&rs.plain, "Content-Encoding %q without Accept-Encoding", ce)
	}
	// A 304 carries the ETag of the representation the client holds.
	if rs.gzip.h.Get("ETag") == "" || rs.doc.h.Get("ETag") == "" {
		bad(&rs.gzip, "no ETag: %q %q", rs.gzip.h.Get("ETag"), rs.doc.h.Get("ETag"))
	}
	if got, want := rs.notModified.h.Get("ETag"), rs.gzip.h.Get("ETag"); got != want {
		bad(&rs.notModified, "ETag %s, the 200's is %s", got, want)
	}
	if got, want := rs.docNotModified.h.Get("ETag"), rs.doc.h.Get("ETag"); got != want {
		bad(&rs.docNotModified, "ETag %s, the 200's is %s", got, want)
	}
	// The replay: the first response byte for byte, the handler not run
	// again, and fresh fields from every layer outside idempotency.
	if !bytes.HasPrefix(rs.post.body, []byte(`{"run":`)) {
		bad(&rs.post, "body %.60q", rs.post.body)
	}
	if !bytes.Equal(rs.replay.body, rs.post.body) {
		bad(&rs.replay, "body %.60q, the first was %.60q", rs.replay.body, rs.post.body)
	}
	if rs.replay.h.Get("Idempotent-Replayed") != "true" {
		bad(&rs.replay, "no Idempotent-Replayed: true: %v", rs.replay.h)
	}
	if rs.replay.h.Get("Location") != rs.post.h.Get("Location") {
		bad(&rs.replay, "Location %q, the first was %q", rs.replay.h.Get("Location"), rs.post.h.Get("Location"))
	}
	for _, f := range fresh {
		if rs.outside(f.layer, lIdempotency) && f.same(&rs.post, &rs.replay) {
			bad(&rs.replay, "%s replayed from the first response (%q), though %s is outside idempotency",
				f.field, rs.replay.h.Values(f.field), layerNames[f.layer])
		}
	}
	if rs.conflict.h.Get("Retry-After") == "" {
		bad(&rs.conflict, "no Retry-After")
	}
	if rs.limited.h.Get("Retry-After") == "" {
		bad(&rs.limited, "no Retry-After")
	}
	// The stream: the first event was on the wire at the handler's flush,
	// and nobody held the stream to hash or store it.
	if !bytes.HasPrefix(rs.events.early, []byte(events[0])) {
		bad(&rs.events, "at the first flush the client had %q", rs.events.early)
	}
	if rs.events.h.Get("ETag") != "" {
		bad(&rs.events, "streamed response got an ETag %q", rs.events.h.Get("ETag"))
	}
	// The upgrades: the handler owns the connection, nobody wrote a status.
	for _, ws := range []*resp{&rs.ws, &rs.wsLegacy} {
		rs.checkUpgrade(ws, bad)
	}
	return errs
}

func (rs *results) checkUpgrade(ws *resp, bad func(r *resp, format string, a ...any)) {
	switch {
	case !rs.hijacks:
		// HTTP/2 has no connection to hand over (RFC 8441's extended
		// CONNECT is not served by net/http): Hijack reports it.
		if ws.code != http.StatusInternalServerError || !bytes.Contains(ws.body, []byte("not supported")) {
			bad(ws, "HTTP/2 upgrade: status %d body %q, want 500 from ErrNotSupported", ws.code, ws.body)
		}
	case ws.code != 0:
		bad(ws, "status %d written, want a hijacked connection (body %q)", ws.code, ws.body)
	case !bytes.HasPrefix(ws.conn, []byte("HTTP/1.1 101 Switching Protocols\r\n")) ||
		!bytes.HasSuffix(ws.conn, []byte{0x81, 2, 'h', 'i'}):
		bad(ws, "connection got %q", ws.conn)
	}
}

// fresh are the per-request fields outer layers set, which a replay must
// not take from the stored response.
var fresh = []struct {
	layer int
	field string
	same  func(a, b *resp) bool
}{
	{lTrace, "X-Trace-Id", func(a, b *resp) bool { return a.h.Get("X-Trace-Id") == b.h.Get("X-Trace-Id") }},
	{lSecurity, "Content-Security-Policy", func(a, b *resp) bool {
		return a.h.Get("Content-Security-Policy") == b.h.Get("Content-Security-Policy")
	}},
	{lRatelimit, "RateLimit", func(a, b *resp) bool { return a.h.Get("RateLimit") == b.h.Get("RateLimit") }},
}

// A rule is an order-dependent outcome: it holds exactly when layer outer
// wraps layer inner. The matrix checks that equivalence in every order.
// Rules with a row and a column are cells of the README's decoration table
// (which fields a response a middleware answered itself carries); the
// others are its list of further outcomes.
type rule struct {
	outcome      string
	row, col     string
	outer, inner int
	holds        func(rs *results) bool
}

// decorations are the table's columns: the fields an outer layer adds.
var decorations = []struct {
	col   string
	layer int
	has   func(*resp) bool
}{
	{"`X-Trace-Id` (and `trace_id`)", lTrace, hasTrace},
	{"security headers", lSecurity, hasSecurity},
	{"CORS headers", lCORS, hasCORS},
	{"`RateLimit` fields", lRatelimit, hasRateLimit},
}

var rules = func() []rule {
	type answer struct {
		what string
		by   int
		pick func(rs *results) *resp
	}
	answers := []answer{
		{"CORS preflight (204)", lCORS, func(rs *results) *resp { return &rs.preflight }},
		{"304 from a `Validator`", lCache, func(rs *results) *resp { return &rs.notModified }},
		{"412 (If-Match failed)", lCache, func(rs *results) *resp { return &rs.putStale }},
		{"429", lRatelimit, func(rs *results) *resp { return &rs.limited }},
		{"409 (duplicate while the first runs)", lIdempotency, func(rs *results) *resp { return &rs.conflict }},
		{"422 (key reused with another request)", lIdempotency, func(rs *results) *resp { return &rs.retry }},
		{"406", lNegotiate, func(rs *results) *resp { return &rs.notAcceptable }},
	}
	var out []rule
	for _, a := range answers {
		for _, d := range decorations {
			if d.layer == a.by || a.by == lCORS && d.layer == lRatelimit {
				continue
			}
			out = append(out, rule{d.col + " on the " + a.what, a.what + " — answered by `" + layerNames[a.by] + "`", d.col,
				d.layer, a.by, func(rs *results) bool { return d.has(a.pick(rs)) }})
		}
	}
	out = append(out, rule{outcome: "a CORS preflight spends no rate-limit quota (carries no `RateLimit` fields)", outer: lCORS, inner: lRatelimit,
		holds: func(rs *results) bool { return !hasRateLimit(&rs.preflight) }})
	for _, f := range fresh {
		out = append(out, rule{outcome: "an idempotent replay carries a fresh `" + f.field + "` (not the stored one)", outer: f.layer, inner: lIdempotency,
			holds: func(rs *results) bool { return !f.same(&rs.post, &rs.replay) }})
	}
	out = append(out, rule{outcome: "cache generates the ETag from the identity body; compress sends it suffixed per coding (`\"…-gzip\"`)",
		outer: lCompress, inner: lCache, holds: func(rs *results) bool { return strings.HasSuffix(rs.doc.h.Get("ETag"), `-gzip"`) }})
	return out
}()
