package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Scenario 4, density: N idle pods (pause + `sleep 3600`, networked). It
// measures the start of all N one after the other and then 4 at a time
// (each pod's own start and the wall time for all, divided by N), and,
// with the N pods of the sequential start up, the memory of everything
// kept running besides the containers: per pod podbox's keeper, shim and
// pause; podman's two conmons and its infra container (catatonit).

// densityParallel is how many pods start at once in the parallel round.
const densityParallel = 4

// densityScenario measures scenario 4.
func (b *bench) densityScenario() error {
	files := make([]string, b.pods)
	for i := range files {
		var err error
		if files[i], err = b.writeManifest(fmt.Sprintf("density-%d.json", i), podManifest(densityName(i), false)); err != nil {
			return err
		}
	}
	type sides struct {
		per  map[int][]time.Duration // by parallelism
		wall map[int]time.Duration
		mem  []podMemory
		err  error
	}
	pb := sides{per: map[int][]time.Duration{}, wall: map[int]time.Duration{}}
	pm := sides{per: map[int][]time.Duration{}, wall: map[int]time.Duration{}}
	for _, par := range []int{1, densityParallel} {
		// podbox, then the peer, for each parallelism.
		if b.stopped() {
			return errInterrupted
		}
		per, wall, err := startMany(b.pods, par, b.stopped, func(i int) error { _, err := b.pb("run", "-f", files[i]); return err })
		if err == nil && par == 1 {
			pb.mem, err = b.podboxMemory()
			// pause starts once the app containers have: give the last
			// pods a moment.
			for deadline := time.Now().Add(10 * time.Second); err != nil && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond)
				pb.mem, err = b.podboxMemory()
			}
		}
		if _, derr := b.pb("delete", "--all", "--grace-period", "0"); err == nil {
			err = derr
		}
		if err != nil {
			return fmt.Errorf("%d podbox pods, %d at a time: %w", b.pods, par, err)
		}
		pb.per[par], pb.wall[par] = per, wall
		if b.podman == nil || pm.err != nil || b.stopped() {
			continue
		}
		per, wall, err = startMany(b.pods, par, b.stopped, func(i int) error {
			name := densityName(i)
			if _, err := b.pm(b.podman, "pod", "create", "--name", name, "--network", podmanNetwork); err != nil {
				return err
			}
			_, err := b.pm(b.podman, "run", "-d", "--pod", name, "--name", name+"-a", benchImage, "sleep", "3600")
			return err
		})
		if err == nil && par == 1 {
			pm.mem, err = b.podmanMemory()
		}
		if _, derr := b.pm(b.podman, "pod", "rm", "-a", "-f", "-t", "0"); err == nil {
			err = derr
		}
		if err != nil {
			pm.err = err
			b.note("podman with %d pods, %d at a time, failed, not measured further: %v", b.pods, par, err)
			continue
		}
		pm.per[par], pm.wall[par] = per, wall
	}
	for _, par := range []int{1, densityParallel} {
		how := "sequential"
		if par > 1 {
			how = fmt.Sprintf("%d at a time", par)
		}
		var pbWall, pmWall []time.Duration
		if w, ok := pb.wall[par]; ok {
			pbWall = []time.Duration{w / time.Duration(b.pods)}
		}
		if w, ok := pm.wall[par]; ok {
			pmWall = []time.Duration{w / time.Duration(b.pods)}
		}
		peer := "podman pod create + run -d --pod"
		b.rows = append(b.rows,
			newRow("density", fmt.Sprintf("%d pods %s: wall time ÷ %d", b.pods, how, b.pods), pbWall, peer, pmWall,
				fmt.Sprintf("total: podbox %s, podman %s", fmtTotal(pb.wall, par), fmtTotal(pm.wall, par))),
			newRow("density", fmt.Sprintf("%d pods %s: each pod's start", b.pods, how), pb.per[par], peer, pm.per[par], ""))
	}
	b.memoryRows(pb.mem, pm.mem)
	return nil
}

func densityName(i int) string { return fmt.Sprintf("bench-%02d", i) }

func fmtTotal(walls map[int]time.Duration, par int) string {
	w, ok := walls[par]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f s", w.Seconds())
}

// startMany starts n pods with start, par at a time, and returns each
// start's duration and the wall time of all; it starts no more once stop
// says so.
func startMany(n, par int, stop func() bool, start func(i int) error) (per []time.Duration, wall time.Duration, err error) {
	per = make([]time.Duration, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	began := time.Now()
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				per[i], errs[i] = timed(func() error { return start(i) })
			}
		}()
	}
	for i := range n {
		if stop() {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	wall = time.Since(began)
	if stop() {
		return nil, 0, errInterrupted
	}
	for _, err := range errs {
		if err != nil {
			return nil, 0, err
		}
	}
	return per, wall, nil
}

// podboxMemory reads the memory of each pod's keeper, shim and pause.
func (b *bench) podboxMemory() ([]podMemory, error) {
	var pods []podMemory
	for i := range b.pods {
		name := densityName(i)
		data, err := os.ReadFile(filepath.Join(b.state, "pods", "default", name, "keeper.pid"))
		if err != nil {
			return nil, fmt.Errorf("find the keeper of pod %s: %w", name, err)
		}
		keeper, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, fmt.Errorf("find the keeper of pod %s: %w", name, err)
		}
		pm := podMemory{}
		if err := pm.add("keeper", keeper); err != nil {
			return nil, err
		}
		for _, shim := range childrenOf(keeper) {
			if err := pm.add("shim", shim); err != nil {
				return nil, err
			}
			for _, c := range childrenOf(shim) {
				if comm(c) == "pause" {
					if err := pm.add("pause", c); err != nil {
						return nil, err
					}
				}
			}
		}
		if len(pm.procs) != 3 {
			return nil, fmt.Errorf("pod %s: found %d of keeper, shim and pause", name, len(pm.procs))
		}
		pods = append(pods, pm)
	}
	return pods, nil
}

// podmanMemory reads the memory of each pod's conmons and infra process.
func (b *bench) podmanMemory() ([]podMemory, error) {
	out, err := b.pm(b.podman, "ps", "-a", "--format", "{{.ID}}")
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(out)
	if len(ids) == 0 {
		return nil, fmt.Errorf("podman lists no containers")
	}
	out, err = b.pm(b.podman, append([]string{"inspect", "--format", "{{.Pod}} {{.IsInfra}} {{.State.Pid}} {{.State.ConmonPid}}"}, ids...)...)
	if err != nil {
		return nil, err
	}
	byPod := map[string]*podMemory{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("podman inspect printed %q", line)
		}
		pm := byPod[f[0]]
		if pm == nil {
			pm = &podMemory{}
			byPod[f[0]] = pm
			order = append(order, f[0])
		}
		pid, _ := strconv.Atoi(f[2])
		conmon, _ := strconv.Atoi(f[3])
		if err := pm.add("conmon", conmon); err != nil {
			return nil, err
		}
		if f[1] == "true" {
			if err := pm.add("infra ("+comm(pid)+")", pid); err != nil {
				return nil, err
			}
		}
	}
	var pods []podMemory
	for _, id := range order {
		pods = append(pods, *byPod[id])
	}
	return pods, nil
}
