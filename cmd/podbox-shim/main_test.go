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

// A re-executed container init takes over before the packages only the
// shim needs are initialised (internal/runtime/cinit): the Kubernetes API
// tables, net/http and the CNI library are never built in an init.
func TestContainerInitSkipsShimPackages(t *testing.T) {
	bin := t.TempDir() + "/podbox-shim"
	if out, err := exec.Command("go", "build", "-tags", tags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	inits := func(args ...string) map[string]bool {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"GODEBUG=inittrace=1"}
		out, _ := cmd.CombinedOutput() // both fail: no pod, no libcontainer pipes
		seen := map[string]bool{}
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "init" {
				seen[f[1]] = true
			}
		}
		return seen
	}
	all, init := inits("not-a-role"), inits("init")
	for _, p := range []string{"k8s.io/api/core/v1", "net/http", "github.com/containernetworking/cni/libcni", "github.com/podbox/podbox/internal/kube"} {
		if !all[p] {
			t.Errorf("the shim does not initialise %s: the test's list is out of date", p)
		}
		if init[p] {
			t.Errorf("a container init initialises %s", p)
		}
	}
	if !init["github.com/opencontainers/runc/libcontainer"] {
		t.Errorf("a container init did not get as far as libcontainer: %v", init)
	}
}
