package main

import (
	"os/exec"
	"strings"
	"testing"
)

// tags are the shim's build tags, as the Makefile gives them.
const tags = "seccomp podbox_shim containers_image_openpgp exclude_graphdriver_btrfs"

// The shim leaves out what image pulls need (the registry transport,
// signature checks, encryption, gRPC): every container start re-executes
// it, and each of those packages costs start-up time.
func TestShimLeavesOutPulls(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.podman.io/image/v5/copy", "go.podman.io/image/v5/docker", "go.podman.io/image/v5/signature",
			"github.com/containers/ocicrypt", "google.golang.org/grpc", "github.com/sigstore/", "github.com/urfave/cli"} {
			if p == banned || (strings.HasSuffix(banned, "/") && strings.HasPrefix(p, banned)) {
				t.Errorf("the shim links %s", p)
			}
		}
	}
}
