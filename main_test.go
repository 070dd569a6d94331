package coco_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running when
// they end: a cancelled Run, a retry's backoff or a sample top-up must not
// leave one behind. Idle keep-alive connections of the HTTP clients that the
// adapter tests use are the transport's, not Coco's.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}
