package cache

import (
	"net/http"
	"time"

	"github.com/jiec/httpmw/internal/header"
)

// PreconditionError is the error passed to Config.ErrorHandler when a
// request fails a precondition and is answered with 412.
type PreconditionError struct {
	// Field is the request field whose condition failed: "If-Match",
	// "If-Unmodified-Since" or "If-None-Match".
	Field string
	// TooLong reports that the field was longer than the 8 KiB the
	// middleware reads, on a request with an unsafe method: the condition
	// cannot be shown to hold, so the write is refused (fail closed).
	TooLong bool
}

func (e *PreconditionError) Error() string {
	if e.TooLong {
		return "cache: precondition field too long: " + e.Field
	}
	return "cache: precondition failed: " + e.Field
}

// detail is the "detail" member of the 412 problem+json.
func (e *PreconditionError) detail() string {
	if e.TooLong {
		return e.Field + " is too long to be evaluated (more than 8192 bytes); the request is refused"
	}
	return e.Field + " does not hold for the current state of the resource"
}

var (
	errIfMatch           = &PreconditionError{Field: "If-Match"}
	errIfUnmodifiedSince = &PreconditionError{Field: "If-Unmodified-Since"}
	errIfNoneMatch       = &PreconditionError{Field: "If-None-Match"}
	errIfMatchLong       = &PreconditionError{Field: "If-Match", TooLong: true}
	errIfNoneMatchLong   = &PreconditionError{Field: "If-None-Match", TooLong: true}
)

// result is the outcome of evaluating the preconditions of a request.
type result uint8

const (
	proceed     result = iota // perform the method
	notModified               // answer 304
	failed                    // answer 412
)

// state is what the middleware knows about the target resource.
type state struct {
	etag    header.ETag // zero Opaque: no entity tag
	lastMod int64       // modification time in Unix seconds, if hasLM
	hasLM   bool
	exists  bool // a current representation exists

	// coded makes a strong request tag match a strong etag when it is etag
	// with a coding suffix ("v1-gzip" for "v1"): the tag compress gives the
	// encoded representation of the same state, when it runs inside the
	// middleware (a Config.Validator's tag is compared before it runs).
	coded bool
	// codedTag is the If-None-Match element that matched that way, the
	// validator of the response the client holds (for the 304).
	codedTag string
}

// setLastModified records t (zero: unknown) at the one-second resolution of
// an HTTP-date, as ServeContent does.
func (s *state) setLastModified(t time.Time) {
	if !t.IsZero() {
		s.lastMod, s.hasLM = t.Unix(), true
	}
}

// conditional reports whether h holds any precondition field.
func conditional(h http.Header) bool {
	return h["If-Match"] != nil || h["If-None-Match"] != nil ||
		h["If-Modified-Since"] != nil || h["If-Unmodified-Since"] != nil
}

// evaluate applies RFC 9110 §13.2.2 to a request with method and header h
// against the resource state s. The caller has already excluded the methods
// for which preconditions are ignored (§13.2.1).
func evaluate(method string, h http.Header, s *state) (result, *PreconditionError) {
	safe := method == http.MethodGet || method == http.MethodHead
	if !safe {
		// A list too long to read cannot be shown to hold: an unsafe method
		// fails closed rather than acting as if the field matched nothing
		// (If-None-Match: * padded past the cap would let a PUT overwrite).
		if header.TotalLen(h["If-Match"]) > header.MaxLen {
			return failed, errIfMatchLong
		}
		if header.TotalLen(h["If-None-Match"]) > header.MaxLen {
			return failed, errIfNoneMatchLong
		}
	}
	// Step 1: If-Match (strong comparison, §13.1.1); else step 2:
	// If-Unmodified-Since (§13.1.4). A list that holds is present, so it is
	// read a second time only when it does not.
	switch im := h["If-Match"]; {
	case im != nil && holds(im, s, false):
	case present(im):
		return failed, errIfMatch
	case s.hasLM:
		if t, ok := date(h["If-Unmodified-Since"]); ok && s.lastMod > t.Unix() {
			return failed, errIfUnmodifiedSince
		}
	}
	// Step 3: If-None-Match (weak comparison, §13.1.2); else step 4:
	// If-Modified-Since, GET and HEAD only (§13.1.3).
	switch inm := h["If-None-Match"]; {
	case inm != nil && holds(inm, s, true):
		if safe {
			return notModified, nil
		}
		return failed, errIfNoneMatch
	case present(inm):
	case safe && s.hasLM:
		if t, ok := date(h["If-Modified-Since"]); ok && s.lastMod <= t.Unix() {
			return notModified, nil
		}
	}
	return proceed, nil
}

// holds reports whether an If-Match (weak false) or If-None-Match (weak
// true) list names the current representation: one of its tags matches
// (with s.coded, also its strong tag with a coding suffix; the first
// matching element decides which), or it is "*" and a representation exists. A field longer than header.MaxLen
// is malformed and names nothing.
func holds(values []string, s *state, weak bool) bool {
	if !s.exists || header.TotalLen(values) > header.MaxLen {
		return false
	}
	if !s.coded || s.etag.Weak || s.etag.Opaque == "" {
		matched, any, _ := header.MatchETags(values, s.etag, weak)
		return matched || any
	}
	cur := s.etag.Opaque[1 : len(s.etag.Opaque)-1]
	for e := range header.ETags(values) {
		if e == "*" {
			return true
		}
		t, ok := header.ParseETag(e)
		if !ok {
			continue
		}
		if weak && header.WeakMatch(t, s.etag) || header.StrongMatch(t, s.etag) {
			return true
		}
		// A weak request tag with a suffix is the suffixed tag weakened on
		// the way (by a CDN): it names the same state for the weak
		// comparison, and the 304 carries the strong tag the 200 had.
		if base, n := header.CutCodingSuffix(t.Opaque[1 : len(t.Opaque)-1]); n != "" && (weak || !t.Weak) && base == cur {
			if weak {
				s.codedTag = t.Opaque
			}
			return true
		}
	}
	return false
}

// present reports whether a list field has at least one element (it stops
// at the first); a field whose lines hold no element is treated as absent,
// as net/http treats an empty one.
func present(values []string) bool {
	for range header.ETags(values) {
		return true
	}
	return false
}

// date parses an If-Modified-Since or If-Unmodified-Since field: exactly one
// field line holding one HTTP-date in any of the three formats of RFC 9110
// §5.6.7. Several lines or an invalid date make the field ignored (§13.1.3,
// §13.1.4).
func date(values []string) (time.Time, bool) {
	if len(values) != 1 || len(values[0]) > maxDateLen {
		return time.Time{}, false
	}
	t, err := http.ParseTime(values[0])
	return t, err == nil
}

// maxDateLen bounds the date fields parsed; the longest valid form (rfc850
// with "Wednesday") is 38 bytes.
const maxDateLen = 64

// parseETag reads a validator ETag, quoting a bare opaque-tag.
func parseETag(s string) header.ETag {
	if s == "" {
		return header.ETag{}
	}
	if t, ok := header.ParseETag(s); ok {
		return t
	}
	if t, ok := header.ParseETag(`"` + s + `"`); ok {
		return t
	}
	return header.ETag{}
}

// isRepresentationField reports the fields dropped from 304 responses:
// representation metadata and fields describing content (RFC 9110 §15.4.5,
// §8). Everything else, including fields outer middlewares set, is kept.
func isRepresentationField(k string) bool {
	switch k {
	case "Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
		"Content-Range", "Content-Digest", "Repr-Digest", "Transfer-Encoding", "Trailer":
		return true
	}
	return false
}

// notModifiedDrops lists the fields dropNotModified removes: those
// isRepresentationField reports, then Last-Modified.
var notModifiedDrops = [...]string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Language",
	"Content-Range", "Content-Digest", "Repr-Digest", "Transfer-Encoding", "Trailer", "Last-Modified"}

// rangeDropMax is the largest header map that dropNotModified ranges over;
// deleting the ten names is cheaper for larger maps.
const rangeDropMax = 8

// writeNotModified answers 304 on w per RFC 9110 §15.4.5.
func writeNotModified(w http.ResponseWriter) {
	h := w.Header()
	dropNotModified(h, h["Etag"] != nil)
	w.WriteHeader(http.StatusNotModified)
}

// dropNotModified removes from h the fields a 304 does not carry: the
// representation metadata, and Last-Modified when there is an ETag (it only
// guides cache updates without one).
//
// Not inlined: its map iterator would take room in the frames on the
// stack while the answer goes down the chain.
//
//go:noinline
func dropNotModified(h http.Header, etag bool) {
	if len(h) > rangeDropMax {
		drops := notModifiedDrops[:]
		if !etag {
			drops = drops[:len(drops)-1]
		}
		for _, k := range drops {
			delete(h, k)
		}
		return
	}
	for k := range h {
		if isRepresentationField(k) || etag && k == "Last-Modified" {
			delete(h, k)
		}
	}
}

// clearForError removes the fields of a 200 response the handler prepared
// before the middleware replaces it with a 412: validators, freshness and
// representation metadata describe a response that is not sent.
//
// Not inlined: its map iterator would take room in the frames on the
// stack while the answer goes down the chain.
//
//go:noinline
func clearForError(h http.Header) {
	for k := range h {
		switch {
		case isRepresentationField(k),
			k == "Etag", k == "Last-Modified", k == "Cache-Control", k == "Expires", k == "Content-Location":
			delete(h, k)
		}
	}
}
