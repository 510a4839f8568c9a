package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzDecode: no input may panic Decode, and what it accepts must survive SetDefaults,
// Validate and Warnings.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"",
		pod("web"),
		pod("a") + "---\n" + pod("b"),
		`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}]}`,
		"apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n",
		"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    ports: [{containerPort: \"80\"}]\n",
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: &a x\n  labels: {<<: {b: c}, d: *a}\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/\"}}]}}",
		"a: b\n  c: d: e\n",
		"[1, 2",
		"apiVersion: v1\nkind: Pod\nspec: {priority: .nan}\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := Decode(strings.NewReader(in), "fuzz.yaml")
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned a manifest and an error")
			}
			_ = err.Error()
			return
		}
		if len(m.Pods) == 0 {
			t.Fatalf("Decode succeeded without pods")
		}
		for _, p := range m.Pods {
			SetDefaults(p)
			_ = Validate(p).ToAggregate()
			_ = Warnings(p)
			for i := range p.Spec.Containers {
				c := &p.Spec.Containers[i]
				_, _ = Command(c, []string{"/entry"}, []string{"cmd"}, ContainerEnv(c))
				_ = Env(c, []string{"PATH=/bin"}, []string{"HOSTNAME=" + p.Name})
			}
		}
	})
}

// FuzzCommandEnv: Command, Env and Expand never panic, and expansion without variables
// only unescapes "$$".
func FuzzCommandEnv(f *testing.F) {
	f.Add("$(A)", "$$(B)", "A", "$(A)x", "PATH=/bin")
	f.Add("$(", "$", "", "", "")
	f.Add("$$$$(X)", "$(X$(Y))", "X=1", "$(X)", "X")
	f.Fuzz(func(t *testing.T, cmdArg, arg, name, value, imageEnv string) {
		c := &corev1.Container{
			Command: []string{cmdArg},
			Args:    []string{arg},
			Env:     []corev1.EnvVar{{Name: name, Value: value}, {Name: "B", Value: "$(" + name + ")"}},
		}
		env := Env(c, []string{imageEnv}, []string{"HOSTNAME=x"})
		if len(env) == 0 {
			t.Fatalf("Env is empty")
		}
		args, err := Command(c, nil, nil, ContainerEnv(c))
		if err != nil || len(args) != 2 {
			t.Fatalf("Command = %q, %v; want two args", args, err)
		}
		c.Command = nil
		if _, err := Command(c, []string{imageEnv}, nil, env); err != nil {
			t.Fatalf("Command with an entrypoint: %v", err)
		}
		if got, want := Expand(arg, nil), expandNoVars(arg); got != want {
			t.Fatalf("Expand(%q, nil) = %q, want %q", arg, got, want)
		}
	})
}

// expandNoVars is Expand with no variables defined, written the slow, obvious way.
func expandNoVars(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '(' {
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				b.WriteString(s[i : i+3+end])
				i += 2 + end
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
