package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// podWith is a one-container pod manifest for `run -f -`.
func podWith(name, policy, script string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  restartPolicy: ` + policy + `
  terminationGracePeriodSeconds: 0
  containers:
  - {name: app, image: localhost/busybox:1.36, command: [sh, -c, "` + script + `"]}
`
}

// run --wait turns the pods' outcome into the exit code and prints their
// final status.
func TestCLIRunWaitExitCodes(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	cases := []struct {
		name, manifest string
		code           int
		rows           []string // regexps of table rows
		stderr         string
	}{
		{"succeeds", podWith("done", "Never", "echo hi; exit 0"), 0,
			[]string{`done\s+0/1\s+Completed\s+0\s`}, ""},
		{"fails with 3", podWith("three", "Never", "exit 3"), 3,
			[]string{`three\s+0/1\s+Error\s+0\s`}, "pod/three failed"},
		{"init fails with 5", `apiVersion: v1
kind: Pod
metadata: {name: badinit}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  initContainers:
  - {name: init, image: localhost/busybox:1.36, command: [sh, -c, "exit 5"]}
  containers:
  - {name: app, image: localhost/busybox:1.36, command: [sleep, "1000"]}
`, 5, []string{`badinit\s+0/1\s+Init:Error\s+0\s`}, "pod/badinit failed"},
		{"OnFailure succeeds", podWith("onfailure", "OnFailure", "exit 0"), 0,
			[]string{`onfailure\s+0/1\s+Completed\s+0\s`}, ""},
		{"two pods, one fails with 4", podWith("multi-ok", "Never", "exit 0") + "---\n" + podWith("multi-bad", "Never", "sleep 0.3; exit 4"), 4,
			[]string{`multi-ok\s+0/1\s+Completed\s+0\s`, `multi-bad\s+0/1\s+Error\s+0\s`}, "pod/multi-bad failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, errs, code := c.run(tc.manifest, "run", "-f", "-", "--wait")
			t.Logf("run --wait took %v", time.Since(start))
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !regexp.MustCompile(`(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$`).MatchString(out) {
				t.Errorf("no final status table in stdout:\n%s", out)
			}
			for _, row := range tc.rows {
				if !regexp.MustCompile(`(?m)^` + row).MatchString(out) {
					t.Errorf("stdout has no row matching %q:\n%s", row, out)
				}
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", errs, tc.stderr)
			}
			if tc.stderr == "" && errs != "" {
				t.Errorf("stderr %q, want nothing", errs)
			}
		})
	}
}

// run --wait --timeout gives up with exit code 1 and a message; the pod
// keeps running.
func TestCLIRunWaitTimeout(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	start := time.Now()
	out, errs, code := c.run(podWith("forever", "Always", "exec sleep 1000"), "run", "-f", "-", "--wait", "--timeout", "1s")
	took := time.Since(start)
	t.Logf("run --wait --timeout 1s took %v", took)
	if code != 1 {
		t.Errorf("exit code %d, want 1\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if took < time.Second || took > 5*time.Second {
		t.Errorf("run --wait --timeout 1s took %v", took)
	}
	if !strings.Contains(errs, "timed out after 1s") {
		t.Errorf("stderr %q does not name the timeout", errs)
	}
	if get := c.ok("", "get", "forever"); !regexp.MustCompile(`(?m)^forever\s+1/1\s+Running\s+0\s`).MatchString(get) {
		t.Errorf("the pod does not run on after the timeout:\n%s", get)
	}
}

// Ctrl-C during run --wait exits 130 and leaves the pod running, as
// kubectl wait does.
func TestCLIRunWaitInterrupt(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	manifest := filepath.Join(c.dir, "pod.yaml")
	if err := os.WriteFile(manifest, []byte(podWith("sigint", "Always", "exec sleep 1000")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.bin, "--root", c.root, "--state", filepath.Join(c.dir, "state"),
		"--log-dir", filepath.Join(c.dir, "log"), "--pause", c.pause, "--shim", c.shim, "--cgroup-parent", c.cgroup,
		"--cni-conf-dir", c.net.ConfDir, "--network", c.net.Name,
		"run", "-f", manifest, "--wait")
	cmd.Env = append(os.Environ(), c.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Run returns once the pod's containers run; then it waits.
	var out []string
	timeout := time.After(20 * time.Second)
	for created := false; !created; {
		select {
		case l, ok := <-lines:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("podbox ended before the pod was created: %q %q", out, errb.String())
			}
			out = append(out, l)
			created = l == "pod/sigint created"
		case <-timeout:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("no pod/sigint created line: %q %q", out, errb.String())
		}
	}
	if get := c.ok("", "get", "sigint"); !regexp.MustCompile(`(?m)^sigint\s+1/1\s+Running\s`).MatchString(get) {
		t.Fatalf("the pod does not run:\n%s", get)
	}
	time.Sleep(200 * time.Millisecond) // into the wait
	sent := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	go func() {
		for l := range lines {
			out = append(out, l)
		}
		done <- cmd.Wait()
	}()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("podbox run --wait did not end within 10s of SIGINT")
	}
	t.Logf("exited %v after SIGINT", time.Since(sent))
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 130 {
		t.Errorf("exit code %d after SIGINT, want 130\nstdout: %q\nstderr: %s", code, out, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("stderr %q does not say it was interrupted", errb.String())
	}
	if get := c.ok("", "get", "sigint"); !regexp.MustCompile(`(?m)^sigint\s+1/1\s+Running\s+0\s`).MatchString(get) {
		t.Errorf("the pod does not run on after the interrupt:\n%s", get)
	}
}

// run --wait --for=condition=Ready returns once the pod is Ready (after its
// init container), and fails at once when the pod can no longer get there.
func TestCLIRunWaitForReady(t *testing.T) {
	c := newCLI(t)
	c.importBusybox()
	const ready = `apiVersion: v1
kind: Pod
metadata: {name: soon}
spec:
  terminationGracePeriodSeconds: 0
  initContainers:
  - {name: setup, image: localhost/busybox:1.36, command: [sh, -c, "sleep 0.3"]}
  containers:
  - {name: app, image: localhost/busybox:1.36, command: [sleep, "1000"]}
`
	out, errs, code := c.run(ready, "run", "-f", "-", "--wait", "--for=condition=Ready", "--timeout", "20s")
	if code != 0 || !regexp.MustCompile(`(?m)^soon\s+1/1\s+Running\s+0\s`).MatchString(out) {
		t.Errorf("run --wait --for=condition=Ready: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	if _, errs, _ := c.run("", "logs", "soon"); !strings.Contains(errs, `Defaulted container "app" out of: app, setup (init)`) {
		t.Errorf("logs of a pod with an init container: stderr %q, want kubectl's defaulted-container line", errs)
	}
	const never = `apiVersion: v1
kind: Pod
metadata: {name: never-ready}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  initContainers:
  - {name: setup, image: localhost/busybox:1.36, command: [sh, -c, "exit 2"]}
  containers:
  - {name: app, image: localhost/busybox:1.36, command: [sleep, "1000"]}
`
	start := time.Now()
	out, errs, code = c.run(never, "run", "-f", "-", "--wait", "--for=condition=Ready", "--timeout", "20s")
	if code != 1 || !strings.Contains(errs, "can no longer be met") || time.Since(start) > 10*time.Second {
		t.Errorf("run --wait --for=condition=Ready of a pod that fails: exit %d after %v\nstdout: %s\nstderr: %s", code, time.Since(start), out, errs)
	}
	if _, errs, code := c.run("", "run", "-f", "-", "--for=condition=Ready"); code == 0 || !strings.Contains(errs, "--for needs --wait") {
		t.Errorf("--for without --wait: exit %d, stderr %q", code, errs)
	}
}
