package cni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"golang.org/x/sys/unix"
)

// pluginExec runs plugins as libcni's RawExec does, but starts them through
// Options.Start.
type pluginExec struct {
	version.PluginDecoder
	start func(cmd *exec.Cmd) (func() error, error)
}

func (e *pluginExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

func (e *pluginExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, pluginPath)
	cmd.Env = withSbinPath(environ)
	cmd.Stdin = bytes.NewReader(stdinData)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	wait, err := e.start(cmd)
	if err == nil {
		err = wait()
	}
	if err != nil {
		return nil, pluginError(err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// pluginError is the error of a plugin that failed: the CNI error it
// printed, else what it wrote on stderr, else how it ended.
func pluginError(err error, stdout, stderr []byte) error {
	e := &types.Error{}
	switch {
	case len(stdout) > 0:
		if perr := json.Unmarshal(stdout, e); perr != nil || (e.Msg == "" && e.Code == 0) {
			e = &types.Error{Msg: fmt.Sprintf("plugin failed (%v): it printed %q", err, stdout)}
		}
	case len(stderr) > 0:
		e.Msg = fmt.Sprintf("plugin failed (%v): %s", err, bytes.TrimSpace(stderr))
	default:
		e.Msg = fmt.Sprintf("plugin failed with no message: %v", err)
	}
	return e
}

// KillPlugins SIGKILLs every plugin process (and what it started, such as
// iptables) still working on attachment id, and waits a moment for them to
// go: the processes of an ADD whose caller was killed, which would
// otherwise finish after the DEL. They carry CNI_CONTAINERID=id in their
// environment.
func KillPlugins(id string) {
	want := []byte("CNI_CONTAINERID=" + id + "\x00")
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	var fds []int
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		// Checked again through the pidfd's process: the PID may have been
		// reused since the read.
		if env, err := os.ReadFile(p); err == nil && bytes.Contains(env, want) {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
			fds = append(fds, fd)
		} else {
			unix.Close(fd)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, fd := range fds {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		_, _ = unix.Poll(pfd, int(max(time.Until(deadline), 0).Milliseconds()))
		unix.Close(fd)
	}
}

// sbinPath are the directories plugins find iptables and ip in, whatever
// PATH the caller had.
const sbinPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// withSbinPath is environ with sbinPath appended to its PATH (or as PATH).
func withSbinPath(environ []string) []string {
	out := make([]string, 0, len(environ)+1)
	found := false
	for _, e := range environ {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			found = true
			if v != "" {
				e = "PATH=" + v + ":" + sbinPath
			} else {
				e = "PATH=" + sbinPath
			}
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, "PATH="+sbinPath)
	}
	return out
}
