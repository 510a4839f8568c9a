package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// procMemory is one process's memory from /proc/PID/smaps_rollup, in KiB.
// PSS divides each shared page among the processes that map it, so the
// PSS of N alike helpers adds up to what they really cost together.
type procMemory struct {
	Kind    string
	PID     int
	RSS     float64
	PSS     float64
	PSSAnon float64
	PSSFile float64
}

// podMemory is the helpers one pod keeps running.
type podMemory struct{ procs []procMemory }

// add reads the memory of pid as a helper of this kind.
func (p *podMemory) add(kind string, pid int) error {
	m, err := readSmapsRollup(pid)
	if err != nil {
		return fmt.Errorf("read the memory of the %s (pid %d): %w", kind, pid, err)
	}
	m.Kind, m.PID = kind, pid
	p.procs = append(p.procs, m)
	return nil
}

func (p podMemory) sum(field func(procMemory) float64) float64 {
	var s float64
	for _, m := range p.procs {
		s += field(m)
	}
	return s
}

// readSmapsRollup reads Rss, Pss, Pss_Anon and Pss_File.
func readSmapsRollup(pid int) (procMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return procMemory{}, err
	}
	defer f.Close()
	var m procMemory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			m.RSS = v
		case "Pss:":
			m.PSS = v
		case "Pss_Anon:":
			m.PSSAnon = v
		case "Pss_File:":
			m.PSSFile = v
		}
	}
	return m, sc.Err()
}

// childrenOf lists the children of pid.
func childrenOf(pid int) []int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var kids []int
	for _, f := range strings.Fields(string(data)) {
		if k, err := strconv.Atoi(f); err == nil {
			kids = append(kids, k)
		}
	}
	// Children of other threads of a Go program.
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		if t.Name() == strconv.Itoa(pid) {
			continue
		}
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		for _, f := range strings.Fields(string(data)) {
			if k, err := strconv.Atoi(f); err == nil && !slices.Contains(kids, k) {
				kids = append(kids, k)
			}
		}
	}
	return kids
}

// comm is a process's command name.
func comm(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(data))
}

// MemoryRow is the average memory of one kind of helper, per pod.
type MemoryRow struct {
	Tool    string  `json:"tool"`
	Kind    string  `json:"kind"`
	PerPod  float64 `json:"perPod"` // how many per pod
	RSS     float64 `json:"rssKiB"`
	PSS     float64 `json:"pssKiB"`
	PSSAnon float64 `json:"pssAnonKiB"`
	PSSFile float64 `json:"pssFileKiB"`
}

// memoryRows adds the per-pod memory rows (the sum of each pod's helpers,
// over the pods) and the breakdown by kind of helper.
func (b *bench) memoryRows(podbox, peer []podMemory) {
	perPod := func(pods []podMemory, field func(procMemory) float64) []float64 {
		var v []float64
		for _, p := range pods {
			v = append(v, p.sum(field))
		}
		return v
	}
	for _, f := range []struct {
		name  string
		field func(procMemory) float64
	}{
		{"PSS", func(m procMemory) float64 { return m.PSS }},
		{"RSS", func(m procMemory) float64 { return m.RSS }},
	} {
		r := Row{Scenario: "density", Case: fmt.Sprintf("helpers per pod, %s (%d idle pods)", f.name, b.pods), Unit: "KiB",
			Podbox: summarizeFloat(perPod(podbox, f.field)), Peer: "podman: 2 conmon + infra", PeerRun: summarizeFloat(perPod(peer, f.field))}
		r.setRatio()
		b.rows = append(b.rows, r)
	}
	b.memory = append(b.memory, breakdown("podbox", podbox)...)
	b.memory = append(b.memory, breakdown("podman", peer)...)
}

// breakdown averages each kind of helper over the pods.
func breakdown(tool string, pods []podMemory) []MemoryRow {
	if len(pods) == 0 {
		return nil
	}
	byKind := map[string]*MemoryRow{}
	var kinds []string
	for _, p := range pods {
		for _, m := range p.procs {
			r := byKind[m.Kind]
			if r == nil {
				r = &MemoryRow{Tool: tool, Kind: m.Kind}
				byKind[m.Kind] = r
				kinds = append(kinds, m.Kind)
			}
			r.PerPod++
			r.RSS += m.RSS
			r.PSS += m.PSS
			r.PSSAnon += m.PSSAnon
			r.PSSFile += m.PSSFile
		}
	}
	n := float64(len(pods))
	var rows []MemoryRow
	for _, k := range kinds {
		r := byKind[k]
		round := func(v float64) float64 { return math.Round(v/n*10) / 10 }
		r.PerPod, r.RSS, r.PSS, r.PSSAnon, r.PSSFile = round(r.PerPod), round(r.RSS), round(r.PSS), round(r.PSSAnon), round(r.PSSFile)
		rows = append(rows, *r)
	}
	return rows
}
