package testutil

import (
	"os"
	"testing"
)

// RequireRoot fails the test when not running as root. podbox's
// integration tests must run, not skip: a CI run without root is a broken
// CI run. `go test -short` (make unit) skips them visibly instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("privileged integration test: skipped with -short (make unit); make test runs it as root")
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root: it runs real pods (namespaces, mounts, cgroups). Run `make test` as root; `make unit` runs only the tests that need nothing")
	}
}
