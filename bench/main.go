// Command bench measures podbox beside podman, the rootful pod tool users
// would pick instead (`make bench`). Each scenario alternates podbox and
// the peer run by run, so that the machine's noise hits both alike, and
// reports min / median / p90 / max and the ratio of the medians:
//
//  0. the CLI's floor (baseline.go): `podbox version` against `podman
//     version`;
//  1. pod start (start.go): pause + one busybox `sleep 3600` until it runs,
//     networked and hostNetwork, against `podman pod create` + `podman run
//     -d --pod` and against `podman kube play`;
//  2. pod delete with grace period 0 (delete.go);
//  3. the seed pod, 2 init containers + 1 app, until the app runs
//     (seed.go), against `podman kube play`;
//  4. density (density.go): N idle pods, the memory of the helpers each
//     keeps running (RSS and PSS), and their start one after the other and
//     4 at a time;
//  5. images (image.go): the rootfs of a second container from an unpacked
//     image, and a 3-layer pull from a registry on 127.0.0.1;
//  6. exec into a running container (exec.go).
//
// Everything happens in a temporary directory: podbox with its own roots,
// cgroup parent and CNI network (bridge pbbench), podman with its own
// storage, run root, containers.conf and network (bridge pbbench1). All of
// it is removed at the end, also after Ctrl-C. A missing peer is noted and
// skipped. Results go to latest.json and latest.md in -out and, with
// -readme, into the README's benchmark section.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// scenario is one part of the benchmark, its name used by -only.
type scenario struct {
	name string
	run  func(*bench) error
}

// scenarios in the order they run.
var scenarios = []scenario{
	{"baseline", (*bench).baselineScenario},
	{"start", (*bench).startScenario},
	{"seed", (*bench).seedScenario},
	{"density", (*bench).densityScenario},
	{"image", (*bench).imageScenario},
	{"exec", (*bench).execScenario},
}

func main() {
	podbox := flag.String("podbox", "bin/podbox", "the podbox binary (podbox-shim is looked for next to it)")
	pause := flag.String("pause", "", "the pause binary (default: podbox-pause next to podbox)")
	n := flag.Int("n", 10, "measured rounds per scenario")
	warm := flag.Int("warm", 1, "warm-up rounds per scenario, not counted")
	pods := flag.Int("pods", 50, "pods in the density scenario")
	only := flag.String("only", "", "comma-separated scenarios to run (baseline,start,seed,density,image,exec; start includes delete); default all")
	peers := flag.Bool("peers", true, "measure podman beside podbox")
	out := flag.String("out", "bench/results", "directory for latest.json and latest.md")
	readme := flag.String("readme", "", "README whose benchmark section gets the table")
	flag.Parse()
	// A closed pipe (| head) must not kill the bench before it cleans up.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := run(ctx, options{podbox: *podbox, pause: *pause, n: *n, warm: *warm, pods: *pods, only: *only,
		peers: *peers, out: *out, readme: *readme})
	stop()
	os.Exit(code)
}

type options struct {
	podbox, pause, only, out, readme string
	n, warm, pods                    int
	peers                            bool
}

func run(ctx context.Context, o options) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root (podbox and podman run rootful pods)")
		return 1
	}
	var want []string
	if o.only != "" {
		want = strings.Split(o.only, ",")
		for _, w := range want {
			if !slices.ContainsFunc(scenarios, func(s scenario) bool { return s.name == w }) {
				fmt.Fprintf(os.Stderr, "bench: no scenario %q\n", w)
				return 2
			}
		}
	}
	podbox, err := filepath.Abs(o.podbox)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	pause := o.pause
	if pause == "" {
		pause = filepath.Join(filepath.Dir(podbox), "podbox-pause")
	}
	b := &bench{ctx: ctx, n: o.n, warm: o.warm, pods: o.pods}
	defer b.clean()
	res := &Results{Date: time.Now().UTC(), Machine: machine(), Rounds: o.n, Warmup: o.warm, Pods: o.pods}
	if err := b.setup(podbox, pause, o.peers); err != nil {
		fmt.Fprintln(os.Stderr, "bench: set up:", err)
		return 1
	}
	res.Versions = b.versions()
	fmt.Fprintf(os.Stderr, "bench: podbox %s, podman %s, %d rounds, in %s\n", res.Versions.Podbox, res.Versions.Podman, o.n, b.dir)
	for _, s := range scenarios {
		if want != nil && !slices.Contains(want, s.name) {
			continue
		}
		if b.stopped() {
			break
		}
		fmt.Fprintf(os.Stderr, "bench: %s\n", s.name)
		start := time.Now()
		if err := s.run(b); err != nil {
			if errors.Is(err, errInterrupted) || b.stopped() {
				break
			}
			b.failed = append(b.failed, fmt.Sprintf("%s: %v", s.name, err))
			fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", s.name, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s took %.1f s\n", s.name, time.Since(start).Seconds())
	}
	if b.stopped() {
		fmt.Fprintln(os.Stderr, "bench: interrupted, cleaning up")
		return 130
	}
	if b.retries > 0 {
		b.note("podman pod rm failed and was run again (time counted) %d times", b.retries)
	}
	res.Machine.LoadEnd = loadAvg()
	res.Rows, res.Memory, res.Notes, res.Failed = b.rows, b.memory, b.notes, b.failed
	fmt.Print(res.markdown())
	if err := res.write(o.out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if o.readme != "" && len(b.failed) == 0 {
		if err := res.updateReadme(o.readme); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	}
	if len(b.failed) > 0 {
		return 1
	}
	return 0
}
