// Command podbox-bench measures how fast podbox starts and deletes pods
// (`make bench`): the wall time of `podbox run` until the pod's containers
// run, and of `podbox delete --grace-period 0`, as the median (and min and
// p90) of N rounds, for a one-container and a two-container pod. If podman
// is installed it measures `podman pod create` + `podman run -d --pod` and
// `podman pod rm -f -t 0` on the same image, isolated in its own storage
// root and without networking, for comparison.
//
// Everything happens in a temporary directory; the host's podbox and podman
// stores are not touched.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/testutil"
	"golang.org/x/sys/unix"
)

func main() {
	podbox := flag.String("podbox", "bin/podbox", "podbox binary")
	pause := flag.String("pause", "", "pause binary (default: next to podbox)")
	n := flag.Int("n", 20, "rounds")
	peers := flag.Bool("peers", true, "also measure runc, crun and podman, if installed")
	flag.Parse()
	// A closed pipe (| head) must not kill the bench before it cleans up.
	signal.Ignore(syscall.SIGPIPE)
	if err := run(*podbox, *pause, *n, *peers); err != nil {
		fmt.Fprintln(os.Stderr, "podbox-bench:", err)
		os.Exit(1)
	}
}

func run(podbox, pause string, n int, withPeers bool) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root")
	}
	podbox, _ = filepath.Abs(podbox)
	if pause == "" {
		pause = filepath.Join(filepath.Dir(podbox), "podbox-pause")
	}
	dir, err := os.MkdirTemp("", "podbox-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rootfs := filepath.Join(dir, "rootfs")
	if err := testutil.BusyboxRootfsDir(rootfs); err != nil {
		return err
	}
	// A network of its own (never the host's default podbox network),
	// removed at the end.
	netDir := filepath.Join(dir, "net.d")
	if err := os.MkdirAll(netDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(netDir, "bench.conflist"), benchNetwork(filepath.Join(dir, "ipam")), 0o644); err != nil {
		return err
	}
	defer func() { _ = exec.Command("ip", "link", "del", benchBridge).Run() }()
	b := &bench{podbox: podbox, dir: dir, args: []string{"--root", filepath.Join(dir, "root"), "--state",
		filepath.Join(dir, "state"), "--log-dir", filepath.Join(dir, "log"), "--pause", pause, "--cgroup-parent", "/podbox-bench",
		"--cni-conf-dir", netDir, "--network", "podbox-bench"}}
	if _, err := b.pb("image", "import", rootfs, "localhost/busybox:bench"); err != nil {
		return err
	}
	fmt.Printf("podbox-bench: %d rounds each, %s, %d CPUs\n\n", n, kernel(), numCPU())
	fmt.Printf("%-44s %9s %9s %9s\n", "", "median", "min", "p90")
	for _, pods := range []struct {
		name, manifest string
		ready          bool
	}{
		{"podbox run, 1 container -> running", onePod, false},
		{"podbox run, 2 containers -> running", twoPods, false},
		{"podbox run, 2 init + 1 app -> app running", seedPod, true},
	} {
		runs, dels, err := b.podboxRounds(pods.manifest, n, pods.ready)
		if err != nil {
			return err
		}
		report(pods.name, runs)
		what, _, _ := strings.Cut(pods.name, " ->")
		report(strings.Replace(what, "run", "delete --grace-period 0", 1), dels)
	}
	if !withPeers {
		return nil
	}
	fmt.Println()
	for _, rt := range []string{"runc", "crun"} {
		if _, err := exec.LookPath(rt); err != nil {
			fmt.Printf("%s not installed: no comparison\n", rt)
			continue
		}
		runs, dels, err := b.ociRounds(rt, rootfs, n)
		if err != nil {
			fmt.Printf("%s: %v\n", rt, err)
			continue
		}
		report(rt+" run -d (one bare container, no pod)", runs)
		report(rt+" delete -f", dels)
	}
	if _, err := exec.LookPath("podman"); err != nil {
		fmt.Println("podman not installed: no comparison (apt-get install podman)")
		return nil
	}
	runs, dels, err := b.podmanRounds(rootfs, n)
	if err != nil {
		fmt.Printf("podman could not run a pod on this host: %v\n", err)
		return nil
	}
	report("podman pod create + run -d, 1 container", runs)
	report("podman pod rm -f -t 0", dels)
	return nil
}

// benchBridge and benchNetwork are the bench's CNI network: podbox's
// default network as this host would get it (masquerading; the firewall
// plugin where FORWARD drops) on a bridge and a subnet of its own.
const benchBridge = "pbbench"

func benchNetwork(ipamDir string) []byte {
	return cni.Bridge{Name: "podbox-bench", Bridge: benchBridge, Subnet: "10.202.0.0/24", Masquerade: true,
		Firewall: cni.ForwardDrops(), DataDir: ipamDir}.ConfList()
}

const onePod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bench"},"spec":{"terminationGracePeriodSeconds":0,
"containers":[{"name":"a","image":"localhost/busybox:bench","command":["sleep","3600"]}]}}`

// seedPod is the shape of the seed's myapp-pod: two init containers that
// run to completion one after the other, then the app.
const seedPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bench"},"spec":{"terminationGracePeriodSeconds":0,
"initContainers":[{"name":"init-myservice","image":"localhost/busybox:bench","command":["sh","-c","echo myservice is up"]},
{"name":"init-mydb","image":"localhost/busybox:bench","command":["sh","-c","echo mydb is up"]}],
"containers":[{"name":"myapp","image":"localhost/busybox:bench","command":["sleep","3600"]}]}}`

const twoPods = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bench"},"spec":{"terminationGracePeriodSeconds":0,
"containers":[{"name":"a","image":"localhost/busybox:bench","command":["sleep","3600"]},
{"name":"b","image":"localhost/busybox:bench","command":["sleep","3600"]}]}}`

type bench struct {
	podbox string
	dir    string
	args   []string
}

func (b *bench) pb(args ...string) (string, error) {
	return command(nil, b.podbox, append(append([]string{}, b.args...), args...)...)
}

// podboxRounds times `podbox run` (with ready, `run --wait
// --for=condition=Ready`: a pod with init containers is still initializing
// when a plain run returns) and `podbox delete`.
func (b *bench) podboxRounds(manifest string, n int, ready bool) (runs, dels []time.Duration, err error) {
	file := filepath.Join(b.dir, "pod.json")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		return nil, nil, err
	}
	for i := 0; i < n+1; i++ { // the first round warms caches and is dropped
		start := time.Now()
		args := []string{"run", "-f", file}
		if ready {
			args = append(args, "--wait", "--for=condition=Ready", "--timeout", "30s")
		}
		if _, err := b.pb(args...); err != nil {
			return nil, nil, err
		}
		took := time.Since(start)
		out, err := b.pb("get", "bench", "-o", "json")
		if err != nil {
			return nil, nil, err
		}
		if err := allRunning(out); err != nil {
			return nil, nil, err
		}
		start = time.Now()
		if _, err := b.pb("delete", "bench", "--grace-period", "0"); err != nil {
			return nil, nil, err
		}
		if i > 0 {
			runs = append(runs, took)
			dels = append(dels, time.Since(start))
		}
	}
	return runs, dels, nil
}

func allRunning(podJSON string) error {
	var p struct {
		Status struct {
			ContainerStatuses []struct {
				Name  string
				State map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(podJSON), &p); err != nil {
		return err
	}
	for _, cs := range p.Status.ContainerStatuses {
		if _, ok := cs.State["running"]; !ok {
			return fmt.Errorf("container %s not running after run: %v", cs.Name, cs.State)
		}
	}
	return nil
}

func (b *bench) podmanRounds(rootfs string, n int) (runs, dels []time.Duration, err error) {
	pm := []string{"--root", filepath.Join(b.dir, "podman-root"), "--runroot", filepath.Join(b.dir, "podman-run"),
		"--cgroup-manager", "cgroupfs", "--events-backend", "none"}
	// Root here may lack CAP_SYS_RESOURCE: podman's default RLIMIT_NOFILE
	// and RLIMIT_NPROC (1048576, 4194304) cannot be set then, so give it
	// the caller's limits.
	conf := filepath.Join(b.dir, "containers.conf")
	var nofile, nproc unix.Rlimit
	_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
	_ = unix.Getrlimit(unix.RLIMIT_NPROC, &nproc)
	limits := fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n", nofile.Max, nofile.Max, nproc.Max, nproc.Max)
	if err := os.WriteFile(conf, []byte(limits), 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.Setenv("CONTAINERS_CONF", conf); err != nil {
		return nil, nil, err
	}
	p := func(args ...string) (string, error) {
		return command(nil, "podman", append(append([]string{}, pm...), args...)...)
	}
	tar := filepath.Join(b.dir, "rootfs.tar")
	if _, err := command(nil, "tar", "-C", rootfs, "-cf", tar, "."); err != nil {
		return nil, nil, err
	}
	if _, err := p("import", tar, "localhost/busybox:bench"); err != nil {
		return nil, nil, err
	}
	defer p("system", "reset", "--force") //nolint:errcheck // best effort
	for i := 0; i < n+1; i++ {
		start := time.Now()
		if _, err := p("pod", "create", "--name", "bench", "--network", "none"); err != nil {
			return nil, nil, err
		}
		if _, err := p("run", "-d", "--pod", "bench", "--name", "bench-a", "localhost/busybox:bench", "sleep", "3600"); err != nil {
			return nil, nil, err
		}
		took := time.Since(start)
		start = time.Now()
		if _, err := p("pod", "rm", "-f", "-t", "0", "bench"); err != nil {
			return nil, nil, err
		}
		if i > 0 {
			runs = append(runs, took)
			dels = append(dels, time.Since(start))
		}
	}
	return runs, dels, nil
}

// ociRounds times a low-level runtime's `run -d` of one container in the
// same rootfs (its own network, IPC, UTS, PID and mount namespaces) and its
// `delete -f`: a floor for what any pod runtime built on it can do.
func (b *bench) ociRounds(rt, rootfs string, n int) (runs, dels []time.Duration, err error) {
	bundle := filepath.Join(b.dir, rt+"-bundle")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		return nil, nil, err
	}
	if _, err := command(nil, "sh", "-c", "cd "+bundle+" && "+rt+" spec"); err != nil {
		return nil, nil, err
	}
	cfgPath := filepath.Join(bundle, "config.json")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, nil, err
	}
	spec["root"] = map[string]any{"path": rootfs, "readonly": true}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sleep", "3600"}
	delete(proc, "rlimits")
	if linux, ok := spec["linux"].(map[string]any); ok {
		linux["cgroupsPath"] = "/podbox-bench-" + rt
	}
	if raw, err = json.Marshal(spec); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(cfgPath, raw, 0o644); err != nil {
		return nil, nil, err
	}
	state := filepath.Join(b.dir, rt+"-state")
	// Whatever happens, leave no container behind.
	defer exec.Command(rt, "--root", state, "delete", "-f", "bench").Run() //nolint:errcheck // best effort
	for i := 0; i < n+1; i++ {
		start := time.Now()
		// A detached container keeps its stdio: give it none, else waiting
		// for our pipes to close waits for the container.
		if err := detached(rt, "--root", state, "run", "-d", "--bundle", bundle, "bench"); err != nil {
			return nil, nil, err
		}
		took := time.Since(start)
		start = time.Now()
		if _, err := command(nil, rt, "--root", state, "delete", "-f", "bench"); err != nil {
			return nil, nil, err
		}
		if i > 0 {
			runs = append(runs, took)
			dels = append(dels, time.Since(start))
		}
	}
	return runs, dels, nil
}

// detached runs a command that leaves a process behind, with stdout on
// /dev/null and stderr in a file (a pipe would be held open by the
// container).
func detached(name string, args ...string) error {
	f, err := os.CreateTemp("", "podbox-bench-stderr-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Stderr = f
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(f.Name())
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(msg)))
	}
	return nil
}

func command(stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func report(name string, ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("%-44s %9s %9s %9s\n", name, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)*9/10]))
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return "kernel " + strings.TrimSpace(string(b))
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}
