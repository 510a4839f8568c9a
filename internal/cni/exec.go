package cni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
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
	cmd.Env = environ
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
