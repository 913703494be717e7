// Package writer holds the one http.ResponseWriter wrapper that every httpmw
// package builds on.
//
// A Writer keeps the behaviour of the net/http writer it wraps:
//
//   - http.ResponseController reaches Flush, Hijack, SetReadDeadline,
//     SetWriteDeadline and EnableFullDuplex of the writer below via Unwrap;
//   - Flush and FlushError exist for legacy w.(http.Flusher) callers and flush
//     the interceptor's buffer or encoder first;
//   - io.ReaderFrom (the sendfile path) is used when nothing transforms the body;
//   - 1xx informational responses (103 Early Hints) pass straight through and
//     do not commit the status;
//   - the status defaults to 200 on the first Write, a second WriteHeader is
//     ignored, and 1xx/204/304 responses refuse a body with http.ErrBodyNotAllowed.
//
// A middleware that must see or change the response gives the Writer an
// Interceptor (header hook) and optionally a BodyInterceptor (body and flush
// hooks) or an InformationalInterceptor (a hook before each 1xx response). The Writer itself is what the next handler receives, so its method
// set, and nothing promoted from the middleware's own type, is what handlers see.
package writer
