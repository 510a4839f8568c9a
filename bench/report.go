package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Results is what a run measured, written as JSON and as Markdown.
type Results struct {
	Date     time.Time   `json:"date"`
	Machine  Machine     `json:"machine"`
	Versions Versions    `json:"versions"`
	Rounds   int         `json:"rounds"`
	Warmup   int         `json:"warmupRounds"`
	Pods     int         `json:"densityPods"`
	Rows     []Row       `json:"rows"`
	Memory   []MemoryRow `json:"memory,omitempty"`
	Notes    []string    `json:"notes,omitempty"`
	Failed   []string    `json:"failed,omitempty"`
}

// Machine describes the host.
type Machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	MemoryMiB int    `json:"memoryMiB"`
	Kernel    string `json:"kernel"`
	Cgroup    string `json:"cgroup"`
	OS        string `json:"os"`
	LoadStart string `json:"loadAvgStart"`
	LoadEnd   string `json:"loadAvgEnd"`
}

// Versions are the versions measured.
type Versions struct {
	Podbox    string `json:"podbox"`
	Go        string `json:"go"`
	Podman    string `json:"podman,omitempty"`
	Runtime   string `json:"podmanRuntime,omitempty"`
	Conmon    string `json:"conmon,omitempty"`
	Catatonit string `json:"catatonit,omitempty"`
	Network   string `json:"podmanNetwork,omitempty"`
}

// machine reads the host's description.
func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Kernel: readTrim("/proc/sys/kernel/osrelease"), Cgroup: cgroupVersion(),
		LoadStart: loadAvg()}
	m.CPU = fieldOf("/proc/cpuinfo", "model name", ":")
	m.OS = strings.Trim(fieldOf("/etc/os-release", "PRETTY_NAME", "="), `"`)
	var kib int
	_, _ = fmt.Sscanf(fieldOf("/proc/meminfo", "MemTotal", ":"), "%d", &kib)
	m.MemoryMiB = kib / 1024
	return m
}

func readTrim(path string) string {
	data, _ := os.ReadFile(path)
	return strings.TrimSpace(string(data))
}

// fieldOf is the value of the first "key<sep>value" line of a file.
func fieldOf(path, key, sep string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadAvg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// versions asks each tool measured for its version.
func (b *bench) versions() Versions {
	v := Versions{Go: runtime.Version()}
	if out, err := b.pb("version"); err == nil {
		v.Podbox = strings.TrimPrefix(firstLine(out), "podbox ")
	}
	if b.podman == nil {
		return v
	}
	v.Podman = b.podman.version
	v.Runtime = firstLine(commandOutput(b.podman.runtime, "--version"))
	v.Conmon = firstLine(commandOutput("conmon", "--version"))
	v.Catatonit = firstLine(commandOutput("catatonit", "--version"))
	v.Network = b.podman.backend
	if b.podman.backend == "netavark" {
		v.Network = firstLine(commandOutput("/usr/lib/podman/netavark", "--version"))
	}
	return v
}

func commandOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return strings.TrimSpace(string(out))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// debVersion is an installed Debian package's version.
func debVersion(pkg string) string {
	return commandOutput("dpkg-query", "-W", "-f", "${Version}", pkg)
}

// write saves the results as results.json and results.md in dir.
func (r *Results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	return nil
}

// markdown renders the results as a Markdown table with the machine, the
// versions and the notes.
func (r *Results) markdown() string {
	var b strings.Builder
	m, v := r.Machine, r.Versions
	fmt.Fprintf(&b, "Measured %s on %d cores (%s), %d MiB, %s, kernel %s, cgroup %s; load average %s at the start, %s at the end.\n",
		r.Date.UTC().Format("2006-01-02 15:04 MST"), m.Cores, m.CPU, m.MemoryMiB, m.OS, m.Kernel, m.Cgroup, m.LoadStart, m.LoadEnd)
	fmt.Fprintf(&b, "podbox %s (%s)", v.Podbox, v.Go)
	if v.Podman != "" {
		fmt.Fprintf(&b, " against podman %s with %s, %s, %s, network %s", v.Podman, v.Runtime, v.Conmon, v.Catatonit, v.Network)
	}
	fmt.Fprintf(&b, ". %d rounds per measurement after %d warm-up round(s), podbox and the peer alternating; density: %d pods.\n\n",
		r.Rounds, r.Warmup, r.Pods)
	b.WriteString("| scenario | case | podbox min / **median** / p90 / max | peer | peer min / **median** / p90 / max | podbox/peer |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		unit := row.Unit
		if unit == "" {
			unit = "ms"
		}
		ratio := "-"
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", row.Ratio)
		}
		peer := row.Peer
		if row.PeerRun == nil {
			peer += " (not measured)"
		}
		c := row.Case
		if row.Note != "" {
			c += " (" + row.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", row.Scenario, c, fmtSummary(row.Podbox, unit), peer, fmtSummary(row.PeerRun, unit), ratio)
	}
	if len(r.Memory) > 0 {
		b.WriteString("\nHelpers' memory per pod (averages over the idle pods, KiB):\n\n")
		b.WriteString("| tool | process | per pod | RSS | PSS | PSS anon | PSS file |\n|---|---|---|---|---|---|---|\n")
		for _, mr := range r.Memory {
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", mr.Tool, mr.Kind, mr.PerPod, mr.RSS, mr.PSS, mr.PSSAnon, mr.PSSFile)
		}
	}
	if len(r.Notes) > 0 || len(r.Failed) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range r.Failed {
			fmt.Fprintf(&b, "- FAILED: %s\n", n)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

func fmtSummary(s *Summary, unit string) string {
	if s == nil {
		return "-"
	}
	f := func(v float64) string {
		if v >= 100 || unit == "KiB" {
			return fmt.Sprintf("%.0f", v)
		}
		return fmt.Sprintf("%.1f", v)
	}
	if s.N == 1 {
		return fmt.Sprintf("**%s** %s", f(s.Median), unit)
	}
	return fmt.Sprintf("%s / **%s** / %s / %s %s", f(s.Min), f(s.Median), f(s.P90), f(s.Max), unit)
}

// README markers between which -readme puts the latest table.
const (
	readmeBegin = "<!-- bench:begin (make bench rewrites this part) -->"
	readmeEnd   = "<!-- bench:end -->"
)

// updateReadme replaces the part of the README between the markers with
// the results.
func (r *Results) updateReadme(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	i := bytes.Index(data, []byte(readmeBegin))
	j := bytes.Index(data, []byte(readmeEnd))
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q section", path, readmeBegin, readmeEnd)
	}
	var out bytes.Buffer
	out.Write(data[:i+len(readmeBegin)])
	out.WriteString("\n\n")
	out.WriteString(r.markdown())
	out.WriteString("\n")
	out.Write(data[j:])
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
