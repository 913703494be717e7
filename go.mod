module github.com/jiec/httpmw

go 1.26.0

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/google/uuid v1.6.0
	github.com/klauspost/compress v1.20.4
	go.uber.org/goleak v1.3.0
)

require golang.org/x/net v0.62.0
