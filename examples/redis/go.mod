module github.com/jiec/httpmw/examples/redis

go 1.26.0

replace (
	github.com/jiec/httpmw => ../..
	github.com/jiec/httpmw/redisstore => ../../redisstore
)

require (
	github.com/jiec/httpmw v0.0.0-00010101000000-000000000000
	github.com/jiec/httpmw/redisstore v0.0.0-00010101000000-000000000000
	github.com/redis/go-redis/v9 v9.23.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)
