package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The module pins runc's libcontainer (its Go API has no compatibility
// promise and `go mod tidy` has been seen to move it), and never links
// client-go or the frozen github.com/containers/{image,storage,common}
// modules (whose link-time symbols clash with go.podman.io's).
func TestDependencyPins(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/opencontainers/runc").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m: %v\n%s", err, out)
	}
	if v := strings.TrimSpace(string(out)); v != "v1.5.2" {
		t.Errorf("github.com/opencontainers/runc is %s, want v1.5.2 (go get github.com/opencontainers/runc@v1.5.2)", v)
	}
	out, err = exec.Command("go", "list", "-deps", "-tags", "seccomp containers_image_openpgp exclude_graphdriver_btrfs",
		"github.com/podbox/podbox/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(p, "k8s.io/client-go"):
			t.Errorf("%s is linked: podbox uses k8s.io/api types only", p)
		case strings.HasPrefix(p, "github.com/containers/image/"), strings.HasPrefix(p, "github.com/containers/storage"),
			strings.HasPrefix(p, "github.com/containers/common"):
			t.Errorf("%s is linked: use go.podman.io/* (the github.com/containers paths are frozen)", p)
		case p == "go.podman.io/image/v5/transports/alltransports":
			t.Errorf("%s is linked: import only the transports used", p)
		}
	}
}
