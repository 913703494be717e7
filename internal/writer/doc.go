// Package writer holds the one http.ResponseWriter wrapper that every httpmw
// package builds on.
//
// A Writer keeps the behaviour of the net/http writer it wraps:
//
//   - http.ResponseController reaches Flush, Hijack, SetReadDeadline,
//     SetWriteDeadline and EnableFullDuplex of the writer below via Unwrap;
//   - Flush and FlushError exist for legacy w.(http.Flusher) callers and flush
//     the interceptor's buffer or encoder first;
//   - Hijack exists for legacy w.(http.Hijacker) callers (gorilla/websocket):
//     it delegates through http.ResponseController and returns its error where
//     the connection cannot be hijacked (HTTP/2), leaving a held status held;
//     after a hijack the Writer
//     writes nothing, Status reports 101 unless a final status was committed,
//     and a HijackInterceptor learns of it;
//   - io.ReaderFrom (the sendfile path) is used when nothing transforms the body;
//     as with net/http, ReadFrom commits nothing before the source yields bytes;
//   - 1xx informational responses (103 Early Hints) pass straight through and
//     do not commit the status;
//   - the status defaults to 200 on the first Write, a second WriteHeader is
//     ignored, and 1xx/204/304 responses refuse a body with http.ErrBodyNotAllowed.
//
// Headers. When the final status is committed, the Writer folds values the
// handler set under non-canonical keys of the fields the packages read
// (h["ETag"], h["vary"]) into the canonical key, removes duplicate Vary
// tokens (making "*" stand alone, RFC 9110 §12.5.5) and merges the Vary
// dimensions registered with Vary, so each layer's dimensions are there once
// whatever the handler did to the field; lines of plain tokens become one
// line (header.AddVary). Layers register instead of setting Vary before the
// handler runs: each name is merged once, at the commit. While an interceptor holds the
// status (to buffer or decide), Header returns a copy taken at the commit, so
// that later changes never reach the client, as with a bare net/http writer;
// the interceptor edits the real map through HeaderDown, and Done hands the
// trailer values down (declared in Trailer, or under http.TrailerPrefix keys),
// which net/http sends only as trailers, copied so that a pooled Writer's
// Reset cannot reach them. Every middleware that owns a Writer calls Done
// after the next handler returned.
//
// A middleware that must see or change the response gives the Writer an
// Interceptor (header hook) and optionally a BodyInterceptor (body and flush
// hooks), an InformationalInterceptor (a hook before each 1xx response) or a
// HijackInterceptor. The Writer itself is what the next handler receives, so
// its method set, and nothing promoted from the middleware's own type, is
// what handlers see.
//
// Stack. net/http's HTTP/2 server runs every request on a new goroutine
// whose stack starts small and is copied, frame by frame, each time it must
// grow: the frames on the stack while the handler writes (those of the
// layers' ServeHTTP and of WriteHeader, Write, WriteDown, Header and
// ReadFrom, one set per Writer of the chain) are kept small. Their rare
// cases (1xx, invalid codes, trailers, pooled copy buffers) are in
// functions of their own that return before the call down, and
// WriteHeader and Write do the work of SendHeader and WriteDown themselves
// rather than add a frame. Down gives an encoder WriteDown as its
// io.Writer with no adapter frame. A middleware's ServeHTTP keeps only a
// pointer to its pooled state across the call of next; the work before and
// after runs in //go:noinline helpers (bench/stack_test.go measures it).
package writer
