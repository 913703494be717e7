// Package browser is the end-to-end suite of httpmw in a real browser: its
// tests start HTTPS servers on 127.0.0.1 (an app and an API, every httpmw
// middleware in the recommended order) and drive Debian's headless chromium
// through the DevTools protocol (github.com/chromedp/chromedp), so that what
// is checked is what a browser does with the headers, not what the headers
// say. It is a nested module: chromedp and gorilla/websocket never enter the
// core module's go.mod.
//
// The tests fail, never skip, when chromium is not on PATH (.ci/run installs
// it). They cover CORS (credentialed preflighted requests, exposed headers,
// wildcard subdomains versus look-alikes, 429s readable only when cors is
// outside ratelimit), the CSP nonce and its violation reports (report-to and
// report-uri), zstd, br and gzip decoding and Server-Sent Events through
// compress, ETag revalidation, the trace id, rate-limit fields, idempotent
// replays, a 406 from negotiate and a WebSocket through the whole chain
// (gorilla/websocket, whose legacy w.(http.Hijacker) assertion must reach
// the connection through every wrapper; Chromium opens WebSockets over
// HTTP/1.1, since Go's HTTP/2 server does not offer RFC 8441). On failure a
// screenshot and the page's console are saved and their directory printed
// (under t.ArtifactDir with -artifacts, else a new directory in $TMPDIR).
//
// Nothing is timed by guessing: the Server-Sent Events endpoint writes each
// event only after the page acknowledged the previous one, so a held-back
// event stalls the stream and fails the test; waits for reports, log lines
// and handlers wake on each request the servers see, with a deadline.
//
// Origins: every *.test name resolves to 127.0.0.1 in the browser
// (--host-resolver-rules), so the page origin https://app.example.test:P1
// and the API https://api.example.test:P2 are distinct origins of one site,
// https://evilexample.test:P1 is another site, and none of them is the
// "potentially trustworthy" localhost or 127.0.0.1 that browsers treat
// specially. The servers use HTTPS (HTTP/2) with a certificate made for the
// run, trusted by its key hash only (--ignore-certificate-errors-spki-list),
// so pages are secure contexts as in production (Secure cookies, the
// Reporting API, zstd, crypto.randomUUID).
package browser
