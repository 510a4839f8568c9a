package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podbox/podbox/cgroups"
	"github.com/podbox/podbox/image"
	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/podstate"
	"github.com/podbox/podbox/internal/progress"
	"github.com/podbox/podbox/sandbox"
	"github.com/urfave/cli/v2"
)

func newApp() *cli.App {
	return &cli.App{
		Name:                   "podbox",
		Usage:                  "run Kubernetes pods on this host, without a cluster",
		Version:                sandbox.Version,
		HideVersion:            true,
		UseShortOptionHandling: true,
		// --change 'CMD ["a","b"]' must stay one value.
		DisableSliceFlagSeparator: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: podstate.DefaultRoot, EnvVars: []string{"PODBOX_ROOT"},
				Usage: "directory for images, layers and pod data"},
			&cli.StringFlag{Name: "state", Value: podstate.DefaultState, EnvVars: []string{"PODBOX_STATE"},
				Usage: "directory for runtime state (pod status, sockets, namespaces)"},
			&cli.StringFlag{Name: "log-dir", Value: podstate.DefaultLogDir, EnvVars: []string{"PODBOX_LOG_DIR"},
				Usage: "directory for container logs"},
			&cli.StringFlag{Name: "pause", EnvVars: []string{"PODBOX_PAUSE"},
				Usage: "the pause binary (default: found next to podbox or in libexec)"},
			&cli.StringFlag{Name: "shim", EnvVars: []string{"PODBOX_SHIM"},
				Usage: "the pod shim binary (default: podbox-shim found next to podbox or in libexec, else podbox itself)"},
			&cli.StringFlag{Name: "cni-conf-dir", Value: cni.DefaultConfDir, EnvVars: []string{"PODBOX_CNI_CONF_DIR"},
				Usage: "CNI network configurations"},
			&cli.StringFlag{Name: "cni-bin-dir", Value: strings.Join(cni.DefaultPluginDirs, ":"), EnvVars: []string{"PODBOX_CNI_BIN_DIR"},
				Usage: "CNI plugin directories, colon-separated"},
			&cli.StringFlag{Name: "network", Value: cni.DefaultNetwork, EnvVars: []string{"PODBOX_NETWORK"},
				Usage: "the CNI network pods join (podbox's own is written on first use)"},
			&cli.StringFlag{Name: "cgroup-parent", Value: cgroups.DefaultParent, EnvVars: []string{"PODBOX_CGROUP_PARENT"},
				Usage: "cgroup under which pod cgroups are made"},
			&cli.DurationFlag{Name: "backoff-base", Value: 10 * time.Second, EnvVars: []string{"PODBOX_BACKOFF_BASE"},
				Usage: "first restart back-off delay (the kubelet's is 10s)"},
			&cli.DurationFlag{Name: "backoff-max", Value: 300 * time.Second, EnvVars: []string{"PODBOX_BACKOFF_MAX"},
				Usage: "restart back-off cap (the kubelet's is 5m)"},
			&cli.Int64Flag{Name: "pod-pids-limit", Value: cgroups.DefaultPodPidsLimit, EnvVars: []string{"PODBOX_POD_PIDS_LIMIT"},
				Usage: "pids limit of each pod's cgroup (the kubelet's podPidsLimit; -1: none)"},
			&cli.StringFlag{Name: "authfile", EnvVars: []string{"REGISTRY_AUTH_FILE"},
				Usage: "registry credentials file (default: the one podman and skopeo use)"},
			&cli.StringFlag{Name: "registries-conf", EnvVars: []string{"CONTAINERS_REGISTRIES_CONF"},
				Usage: "registries.conf (mirrors, insecure registries; default /etc/containers/registries.conf)"},
			&cli.StringFlag{Name: "registries-conf-dir", Usage: "registries.conf.d directory"},
			&cli.StringFlag{Name: "signature-policy", Usage: "policy.json (default /etc/containers/policy.json)"},
			&cli.StringFlag{Name: "seccomp-profile-root", EnvVars: []string{"PODBOX_SECCOMP_PROFILE_ROOT"},
				Usage: "directory of the seccomp profiles pods name with type Localhost (default <root>/seccomp)"},
			namespaceFlag(),
		},
		Commands: []*cli.Command{
			runCommand(), getCommand(), describeCommand(), topCommand(), logsCommand(), execCommand(), waitCommand(),
			stopCommand(), deleteCommand(), recoverCommand(), imageCommand(), infoCommand(), versionCommand(),
		},
	}
}

func namespaceFlag() cli.Flag {
	return &cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Value: "default",
		EnvVars: []string{"PODBOX_NAMESPACE"}, Usage: "the pod namespace"}
}

// namespace is -n from the command if given there, else the global one.
func namespace(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("namespace") {
			return ctx.String("namespace")
		}
	}
	return c.String("namespace")
}

// openRuntime opens the runtime with the global flags.
func openRuntime(c *cli.Context) (*sandbox.Runtime, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("podbox needs root (it creates namespaces, mounts and cgroups): run it with sudo")
	}
	return sandbox.Open(sandbox.Options{
		Root:               c.String("root"),
		State:              c.String("state"),
		LogDir:             c.String("log-dir"),
		PauseBinary:        c.String("pause"),
		ShimBinary:         c.String("shim"),
		CgroupParent:       c.String("cgroup-parent"),
		CNIConfDir:         c.String("cni-conf-dir"),
		CNIPluginDirs:      filepath.SplitList(c.String("cni-bin-dir")),
		Network:            c.String("network"),
		BackOffBase:        c.Duration("backoff-base"),
		BackOffMax:         c.Duration("backoff-max"),
		AuthFile:           globalString(c, "authfile"),
		RegistriesConf:     c.String("registries-conf"),
		RegistriesConfDir:  c.String("registries-conf-dir"),
		SignaturePolicy:    c.String("signature-policy"),
		PullProgress:       pullProgress(c),
		SeccompProfileRoot: c.String("seccomp-profile-root"),
		PodPidsLimit:       c.Int64("pod-pids-limit"),
	})
}

// renderers are the progress displays to finish when the command ends.
var renderers []*progress.Renderer

// closeProgress draws the progress displays' final state.
func closeProgress() {
	for _, r := range renderers {
		r.Close()
	}
}

// globalString is a flag that may be given globally or to the command.
func globalString(c *cli.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return ""
}

// pullProgress shows pulls on stderr: bars on a terminal, lines otherwise
// (nothing with --quiet).
func pullProgress(c *cli.Context) func(image.PullEvent) {
	for _, ctx := range c.Lineage() {
		if ctx.Bool("quiet") {
			return nil
		}
	}
	r := progress.New(os.Stderr)
	renderers = append(renderers, r)
	return func(e image.PullEvent) {
		var k progress.Kind
		switch e.Kind {
		case image.PullLayerStart:
			k = progress.Start
		case image.PullLayerProgress:
			k = progress.Progress
		case image.PullLayerDone:
			k = progress.Done
		case image.PullLayerSkipped:
			k = progress.Skipped
		default:
			return
		}
		r.Event(progress.Event{Image: e.Image, Layer: e.Layer.String(), Kind: k, Size: e.Size, Offset: e.Offset})
	}
}

// needArgs checks the number of positional arguments.
func needArgs(c *cli.Context, min int, usage string) error {
	if c.NArg() < min {
		return fmt.Errorf("%s: missing argument; usage: podbox %s", c.Command.Name, usage)
	}
	return nil
}
