package ratelimit_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The stores start no goroutine; the tests check that nothing leaks.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
