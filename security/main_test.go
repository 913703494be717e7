package security_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The tests start httptest servers and the Observatory scanner.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
