package kube

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestExpand(t *testing.T) {
	// The kubelet's expansion rules (third_party/forked/golang/expansion).
	vars := map[string]string{"VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_REF": "$(VAR_A)", "VAR_EMPTY": ""}
	for _, tc := range []struct{ name, in, want string }{
		{"whole string", "$(VAR_A)", "A"},
		{"repeat", "$(VAR_A)-$(VAR_A)", "A-A"},
		{"beginning", "$(VAR_A)-1", "A-1"},
		{"middle", "___$(VAR_B)___", "___B___"},
		{"end", "___$(VAR_C)", "___C"},
		{"compound", "$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"},
		{"escape & expand", "$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"},
		{"compound escape", "$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"},
		{"mixed in escapes", "f000-$$VAR_A", "f000-$VAR_A"},
		{"backslash escape ignored", `foo\$(VAR_C)bar`, `foo\Cbar`},
		{"backslashes", `foo\\$(VAR_C)bar`, `foo\\Cbar`},
		{"nested var references", "$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"},
		{"nested var references second type", "$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"},
		{"value is a reference, not expanded again", "$(VAR_REF)", "$(VAR_A)"},
		{"value is a reference x 2", "%%$(VAR_REF)--$(VAR_REF)%%", "%%$(VAR_A)--$(VAR_A)%%"},
		{"empty var", "foo$(VAR_EMPTY)bar", "foobar"},
		{"unterminated expression", "foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"},
		{"expression without operator", "f00__(VAR_A)__", "f00__(VAR_A)__"},
		{"shell special vars pass through", "$?_boo_$!", "$?_boo_$!"},
		{"bare operators are ignored", "$VAR_A", "$VAR_A"},
		{"undefined vars are passed through", "$(VAR_DNE)", "$(VAR_DNE)"},
		{"multiple (even) operators, var undefined", "$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"},
		{"multiple (even) operators, var defined", "$$$$$$(VAR_A)", "$$$(VAR_A)"},
		{"multiple (odd) operators, var undefined", "$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"},
		{"multiple (odd) operators, var defined", "$$$$$$$(VAR_A)", "$$$A"},
		{"missing open expression", "$VAR_A)", "$VAR_A)"},
		{"shell syntax ignored", "${VAR_A}", "${VAR_A}"},
		{"trailing incomplete expression not consumed", "$(VAR_B)_______$(A", "B_______$(A"},
		{"trailing incomplete expression, no content", "$(VAR_C)_______$(", "C_______$("},
		{"operator at end of input is preserved", "$(VAR_A)foobarzab$", "Afoobarzab$"},
		{"shell escaped incomplete expr", `foo-\$(VAR_A`, `foo-\$(VAR_A`},
		{"lots of $( in middle", "--$($($($($--", "--$($($($($--"},
		{"lots of $( in beginning", "$($($($($--foo$(", "$($($($($--foo$("},
		{"lots of $( at end", "foo0--$($($($(", "foo0--$($($($("},
		{"escaped operators in variable names are not escaped", "$(foo$$var)", "$(foo$$var)"},
		{"newline not expanded", "\n", "\n"},
		{"empty reference", "$()", "$()"},
		{"multi-byte rune after operator", "$é$(VAR_A)", "$éA"},
	} {
		if got := Expand(tc.in, vars); got != tc.want {
			t.Errorf("%s: Expand(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestCommand(t *testing.T) {
	entrypoint, cmd := []string{"/entry"}, []string{"--default"}
	env := []string{"NAME=world", "DIR=/srv", "NAME=again", "NOVALUE"}
	for _, tc := range []struct {
		name             string
		command, args    []string
		entrypoint, cmd  []string
		want             []string
		wantErrNoCommand bool
	}{
		{name: "image only", entrypoint: entrypoint, cmd: cmd, want: []string{"/entry", "--default"}},
		{name: "command replaces entrypoint and cmd", command: []string{"/bin/sh"}, entrypoint: entrypoint, cmd: cmd,
			want: []string{"/bin/sh"}},
		{name: "command and args", command: []string{"/bin/sh", "-c"}, args: []string{"echo hi"}, entrypoint: entrypoint, cmd: cmd,
			want: []string{"/bin/sh", "-c", "echo hi"}},
		{name: "args replace cmd only", args: []string{"--flag"}, entrypoint: entrypoint, cmd: cmd,
			want: []string{"/entry", "--flag"}},
		{name: "args without entrypoint", args: []string{"echo", "hi"}, cmd: cmd, want: []string{"echo", "hi"}},
		{name: "cmd only", cmd: []string{"sh"}, want: []string{"sh"}},
		{name: "empty command counts as unset", command: []string{}, entrypoint: entrypoint, cmd: cmd,
			want: []string{"/entry", "--default"}},
		{name: "entrypoint [\"\"] is cleared", entrypoint: []string{""}, cmd: []string{"sh"}, want: []string{"sh"}},
		{name: "expansion in command and args", command: []string{"echo", "$(NAME)"}, args: []string{"$(DIR)/x", "$$(NAME)", "$(NOPE)", "$(NOVALUE)"},
			want: []string{"echo", "again", "/srv/x", "$(NAME)", "$(NOPE)", "$(NOVALUE)"}},
		{name: "image entrypoint and cmd are not expanded", entrypoint: []string{"$(NAME)"}, cmd: []string{"$(DIR)"},
			want: []string{"$(NAME)", "$(DIR)"}},
		{name: "args expanded after image entrypoint", entrypoint: []string{"/entry"}, args: []string{"$(NAME)"},
			want: []string{"/entry", "again"}},
		{name: "nothing to run", wantErrNoCommand: true},
		{name: "entrypoint [\"\"] and nothing else", entrypoint: []string{""}, wantErrNoCommand: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &corev1.Container{Name: "app", Command: tc.command, Args: tc.args}
			got, err := Command(c, tc.entrypoint, tc.cmd, env)
			if tc.wantErrNoCommand {
				if !errors.Is(err, ErrNoCommand) {
					t.Fatalf("Command = %q, %v; want ErrNoCommand", got, err)
				}
				if err.Error() != "no command specified: the image has no Entrypoint or Cmd and the container sets no command" {
					t.Errorf("error text = %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Command: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Command (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandDoesNotAlias(t *testing.T) {
	c := &corev1.Container{Args: []string{"x"}}
	entrypoint := make([]string, 1, 10)
	entrypoint[0] = "/entry"
	got, err := Command(c, entrypoint, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got[0] = "changed"
	if entrypoint[0] != "/entry" {
		t.Errorf("Command's result shares memory with the image entrypoint")
	}
}

func TestEnv(t *testing.T) {
	for _, tc := range []struct {
		name            string
		env             []corev1.EnvVar
		imageEnv, extra []string
		want            []string
		wantContainer   []string
	}{
		{
			name:     "image only",
			imageEnv: []string{"PATH=/usr/bin:/bin", "LANG=C"},
			want:     []string{"PATH=/usr/bin:/bin", "LANG=C"},
		},
		{
			name:          "container overrides in place, new names appended in spec order",
			imageEnv:      []string{"PATH=/usr/bin", "LANG=C", "TERM=xterm"},
			env:           []corev1.EnvVar{{Name: "ZED", Value: "z"}, {Name: "LANG", Value: "en_US.UTF-8"}, {Name: "ALPHA", Value: "a"}},
			want:          []string{"PATH=/usr/bin", "LANG=en_US.UTF-8", "TERM=xterm", "ZED=z", "ALPHA=a"},
			wantContainer: []string{"ZED=z", "LANG=en_US.UTF-8", "ALPHA=a"},
		},
		{
			name:     "extra before the container, which may override it",
			imageEnv: []string{"PATH=/bin", "HOSTNAME=image"},
			extra:    []string{"HOSTNAME=web", "POD=web"},
			env:      []corev1.EnvVar{{Name: "POD", Value: "mine"}},
			want:     []string{"PATH=/bin", "HOSTNAME=web", "POD=mine"},
		},
		{
			name:     "expansion sees earlier container entries only",
			imageEnv: []string{"FROM_IMAGE=img"},
			extra:    []string{"HOSTNAME=web"},
			env: []corev1.EnvVar{
				{Name: "A", Value: "a"},
				{Name: "B", Value: "$(A)-$(C)-$(FROM_IMAGE)-$(HOSTNAME)"},
				{Name: "C", Value: "c"},
				{Name: "D", Value: "$$(A)"},
			},
			want: []string{"FROM_IMAGE=img", "HOSTNAME=web", "A=a", "B=a-$(C)-$(FROM_IMAGE)-$(HOSTNAME)", "C=c", "D=$(A)"},
		},
		{
			name: "a name given twice: first position, last value, expansion of itself",
			env: []corev1.EnvVar{
				{Name: "X", Value: "1"}, {Name: "Y", Value: "y"}, {Name: "X", Value: "$(X)2"},
			},
			want: []string{"X=12", "Y=y"},
		},
		{
			name:     "empty values and valueFrom",
			imageEnv: []string{"KEEP=1"},
			env: []corev1.EnvVar{{Name: "KEEP", Value: ""}, {Name: "FROM", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			want:          []string{"KEEP="},
			wantContainer: []string{"KEEP="},
		},
		{
			name:     "image entries without = are kept",
			imageEnv: []string{"ODD", "A=1=2"},
			want:     []string{"ODD", "A=1=2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &corev1.Container{Name: "app", Env: tc.env}
			if diff := cmp.Diff(tc.want, Env(c, tc.imageEnv, tc.extra)); diff != "" {
				t.Errorf("Env (-want +got):\n%s", diff)
			}
			if tc.wantContainer != nil {
				if diff := cmp.Diff(tc.wantContainer, ContainerEnv(c)); diff != "" {
					t.Errorf("ContainerEnv (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestCommandWithContainerEnv: the kubelet expands command and args against the
// container's own env, not the image's.
func TestCommandWithContainerEnv(t *testing.T) {
	c := &corev1.Container{
		Command: []string{"echo", "$(GREETING)", "$(PATH)"},
		Env:     []corev1.EnvVar{{Name: "WHO", Value: "world"}, {Name: "GREETING", Value: "hello $(WHO)"}},
	}
	got, err := Command(c, nil, nil, ContainerEnv(c))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"echo", "hello world", "$(PATH)"}, got); diff != "" {
		t.Errorf("Command (-want +got):\n%s", diff)
	}
}
