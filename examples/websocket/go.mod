module github.com/jiec/httpmw/examples/websocket

go 1.26.0

replace github.com/jiec/httpmw => ../..

require (
	github.com/coder/websocket v1.8.15
	github.com/jiec/httpmw v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/andybalholm/brotli v1.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/net v0.62.0 // indirect
)
