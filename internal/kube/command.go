package kube

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Command returns the process arguments of container c the way the kubelet and a CRI
// runtime (containerd) build them:
//
//   - $(VAR) references in c.Command and c.Args are expanded from env, a "KEY=VALUE" list
//     (see Expand); the image's Entrypoint and Cmd are never expanded;
//   - if c.Command is set: c.Command + c.Args (the image's Entrypoint and Cmd are ignored);
//   - otherwise: the image's entrypoint + (c.Args if set, else the image's cmd). An
//     entrypoint of exactly [""] is Docker's way of clearing it and counts as empty.
//
// To match the kubelet exactly, env should be ContainerEnv(c): the kubelet expands command
// and args against the container's own env[] only, not against the image's env.
// An empty result is ErrNoCommand.
func Command(c *corev1.Container, entrypoint, cmd []string, env []string) ([]string, error) {
	vars := envMap(env)
	var args []string
	if len(c.Command) > 0 {
		args = make([]string, 0, len(c.Command)+len(c.Args))
		args = appendExpanded(args, c.Command, vars)
		args = appendExpanded(args, c.Args, vars)
	} else {
		if len(entrypoint) != 1 || entrypoint[0] != "" {
			args = append(args, entrypoint...)
		}
		if len(c.Args) > 0 {
			args = appendExpanded(args, c.Args, vars)
		} else {
			args = append(args, cmd...)
		}
	}
	if len(args) == 0 {
		return nil, ErrNoCommand
	}
	return args, nil
}

func appendExpanded(dst, src []string, vars map[string]string) []string {
	for _, s := range src {
		dst = append(dst, Expand(s, vars))
	}
	return dst
}

// ContainerEnv returns the container's own environment as the kubelet resolves it, as a
// "KEY=VALUE" list in spec order: each env[] entry with a plain value, its $(VAR)
// references expanded against the entries before it. A name given twice keeps its first
// position and its last value. Entries with valueFrom and envFrom are left out (see
// ContainerEnvRefs). The image's env is not part of it.
func ContainerEnv(c *corev1.Container) []string { return ContainerEnvRefs(c, nil) }

// ContainerEnvRefs is ContainerEnv with what envFrom and valueFrom refer to (see
// ResolveEnv): envFrom's variables first, then env[] in spec order, each entry with
// valueFrom taking its looked-up value (never expanded), as the kubelet does. A
// valueFrom entry without a value (an optional reference that is missing) is left out.
func ContainerEnvRefs(c *corev1.Container, refs *EnvRefs) []string {
	var l envList
	resolveContainerEnv(c, &l, refs)
	return l.strings()
}

// Env returns the full environment of container c's process: the image's env, then extra
// (for example "HOSTNAME=web"), then the container's resolved env (ContainerEnv). A later
// entry replaces an earlier one with the same name in place; new names are appended, so the
// order is image order, then new extra names, then new container names in spec order.
// Only the container's own earlier entries are visible to its $(VAR) expansion, as in the
// kubelet: neither the image env nor extra is.
func Env(c *corev1.Container, imageEnv []string, extra []string) []string {
	return EnvWithRefs(c, imageEnv, extra, nil)
}

// EnvWithRefs is Env with what envFrom and valueFrom refer to (see ContainerEnvRefs).
func EnvWithRefs(c *corev1.Container, imageEnv []string, extra []string, refs *EnvRefs) []string {
	var l envList
	for _, kv := range imageEnv {
		l.setRaw(kv)
	}
	for _, kv := range extra {
		l.setRaw(kv)
	}
	var own envList
	resolveContainerEnv(c, &own, refs)
	for i, name := range own.names {
		l.set(name, own.values[i], true)
	}
	return l.strings()
}

// resolveContainerEnv applies the kubelet's makeEnvironmentVariables rules; without refs
// only env[] entries with a plain value count.
func resolveContainerEnv(c *corev1.Container, l *envList, refs *EnvRefs) {
	seen := map[string]string{}
	if refs != nil {
		for _, kv := range refs.From {
			seen[kv.Name] = kv.Value
			l.set(kv.Name, kv.Value, true)
		}
	}
	for i, e := range c.Env {
		if e.ValueFrom != nil {
			if refs == nil {
				continue
			}
			v, ok := refs.ValueFrom[i]
			if !ok {
				continue
			}
			seen[e.Name] = v
			l.set(e.Name, v, true)
			continue
		}
		v := e.Value
		if v != "" {
			v = Expand(v, seen)
		}
		seen[e.Name] = v
		l.set(e.Name, v, true)
	}
}

// envList is an ordered set of environment variables.
type envList struct {
	names  []string
	values []string
	hasVal []bool
	index  map[string]int
}

// setRaw adds a "KEY=VALUE" entry; an entry without "=" is kept as it is.
func (l *envList) setRaw(kv string) {
	name, value, ok := strings.Cut(kv, "=")
	l.set(name, value, ok)
}

func (l *envList) set(name, value string, hasVal bool) {
	if l.index == nil {
		l.index = map[string]int{}
	}
	if i, ok := l.index[name]; ok {
		l.values[i], l.hasVal[i] = value, hasVal
		return
	}
	l.index[name] = len(l.names)
	l.names = append(l.names, name)
	l.values = append(l.values, value)
	l.hasVal = append(l.hasVal, hasVal)
}

func (l *envList) strings() []string {
	out := make([]string, 0, len(l.names))
	for i, name := range l.names {
		if l.hasVal[i] {
			out = append(out, name+"="+l.values[i])
		} else {
			out = append(out, name)
		}
	}
	return out
}

// envMap turns a "KEY=VALUE" list into a map; later entries win, entries without "=" are
// not variables.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if name, value, ok := strings.Cut(kv, "="); ok {
			m[name] = value
		}
	}
	return m
}

// Expand replaces $(VAR) references in s with their values in vars, with the kubelet's
// rules: "$$" is an escaped "$"; a reference to an undefined variable, an unterminated
// "$(" and a "$" not followed by "(" or "$" are left as they are. Values are not
// expanded again.
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// Unterminated: keep "$(" and go on scanning after it.
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			// Not an expression: keep the "$"; the next byte is copied as usual.
			b.WriteByte('$')
		}
	}
	return b.String()
}
