package main

import (
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestInterspersedFlags(t *testing.T) {
	app := newApp()
	for _, c := range []struct{ in, want string }{
		{"podbox get web -o yaml", "podbox get -o yaml web"},
		{"podbox --root /r get web -o=json -A", "podbox --root /r get -o=json -A web"},
		{"podbox exec web -c app -- sh -c 'x'", "podbox exec -c app web -- sh -c 'x'"},
		{"podbox exec -it web -- sh", "podbox exec -it web -- sh"},
		{"podbox logs web -f --tail 3", "podbox logs -f --tail 3 web"},
		{"podbox image import dir name -c CMD", "podbox image import -c CMD dir name"},
		{"podbox delete a b --force", "podbox delete --force a b"},
		{"podbox unknown x -y", "podbox unknown x -y"},
	} {
		got := strings.Join(interspersed(app, strings.Fields(c.in)), " ")
		if got != c.want {
			t.Errorf("%q -> %q, want %q", c.in, got, c.want)
		}
	}
}

func TestApplyChange(t *testing.T) {
	var cfg ocispec.ImageConfig
	for _, ch := range []string{`CMD ["sh", "-c", "echo hi"]`, "ENTRYPOINT /bin/init --flag", "ENV A=b", "ENV C d", "WORKDIR /srv",
		"USER 1000:1000", "STOPSIGNAL SIGQUIT", "LABEL x=y"} {
		if err := applyChange(&cfg, ch); err != nil {
			t.Fatal(err)
		}
	}
	want := ocispec.ImageConfig{
		Cmd: []string{"sh", "-c", "echo hi"}, Entrypoint: []string{"/bin/sh", "-c", "/bin/init --flag"},
		Env: []string{"A=b", "C=d"}, WorkingDir: "/srv", User: "1000:1000", StopSignal: "SIGQUIT", Labels: map[string]string{"x": "y"},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	for _, bad := range []string{"EXPOSE 80", "CMD", "RUN make"} {
		if err := applyChange(&cfg, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseFor(t *testing.T) {
	for _, ok := range []string{"condition=Ready", "condition=ready", "condition=Initialized=true", "jsonpath={.status.phase}=Succeeded"} {
		if _, err := parseFor(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"condition=Bogus", "ready", "jsonpath={.status.phase}=Done", "condition=Ready=false"} {
		if _, err := parseFor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestJSONPath(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"app": "x"}},
		"status":   map[string]any{"containerStatuses": []any{map[string]any{"name": "a", "restartCount": 2}, map[string]any{"name": "b", "restartCount": 0}}},
		"items":    []any{map[string]any{"metadata": map[string]any{"name": "p1"}}, map[string]any{"metadata": map[string]any{"name": "p2"}}},
	}
	for _, c := range []struct{ tmpl, want string }{
		{"{.metadata.name}", "web"},
		{`name={.metadata.name}{"\n"}`, "name=web\n"},
		{"{.status.containerStatuses[*].name}", "a b"},
		{"{.status.containerStatuses[0].restartCount}", "2"},
		{"{.status.containerStatuses[-1].name}", "b"},
		{"{.items[*].metadata.name}", "p1 p2"},
		{"{.metadata.labels}", `{"app":"x"}`},
		{"{.missing.field}", ""},
	} {
		got, err := jsonPath(c.tmpl, obj)
		if err != nil || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.tmpl, got, err, c.want)
		}
	}
	for _, bad := range []string{"{.a", "{name}", "{.a[x]}"} {
		if _, err := jsonPath(bad, obj); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
