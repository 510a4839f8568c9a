package testutil

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Leaks lists what is left on the host below the given directories and
// cgroup parent: mount points, cgroup directories (in any hierarchy), and
// processes in those cgroups or whose command line names one of the
// directories (a shim). An empty result means clean. Processes orphaned by a
// killed shim become zombies of the host's PID 1, which may reap them late,
// so Leaks waits up to five seconds for the host to settle.
func Leaks(dirs []string, cgroupParent string) []string {
	var out []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		out = leaks(dirs, cgroupParent)
		if len(out) == 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func leaks(dirs []string, cgroupParent string) []string {
	var out []string
	if f, err := os.Open("/proc/thread-self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 5 {
				continue
			}
			for _, d := range dirs {
				if fields[4] == d || strings.HasPrefix(fields[4], d+"/") {
					out = append(out, "mount "+fields[4])
				}
			}
		}
		f.Close()
	}
	if cgroupParent != "" {
		hier, _ := filepath.Glob("/sys/fs/cgroup/*")
		for _, h := range hier {
			p := filepath.Join(h, cgroupParent)
			if _, err := os.Stat(p); err == nil {
				out = append(out, "cgroup "+p)
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cg, _ := os.ReadFile(filepath.Join(p, "cgroup"))
		if cgroupParent != "" && strings.Contains(string(cg), cgroupParent+"/") {
			out = append(out, fmt.Sprintf("process %s in cgroup %s", filepath.Base(p), cgroupParent))
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		for _, d := range dirs {
			if strings.Contains(string(cmd), d) {
				out = append(out, fmt.Sprintf("process %s: %s", filepath.Base(p), strings.ReplaceAll(string(cmd), "\x00", " ")))
				break
			}
		}
	}
	return out
}
