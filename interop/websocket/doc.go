// Package websocket proves that WebSocket upgrades work through every httpmw
// middleware and chain: gorilla/websocket (a legacy w.(http.Hijacker)
// assertion) and coder/websocket (101 then Hijack through
// http.ResponseController) echo messages both ways over a real loopback
// HTTP/1.1 connection. It is a nested module so that neither library enters
// the core go.mod.
package websocket
