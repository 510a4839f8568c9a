package cni

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The default network is written on first use, once, where it is looked
// for, and names podbox's bridge and subnet; it is not written for any
// other network name, nor by Inspect.
func TestDefaultNetworkWrittenOnce(t *testing.T) {
	dir := t.TempDir()
	if _, err := Inspect(Options{ConfDir: dir}); !IsNotFound(err) {
		t.Fatalf("Inspect of an empty directory: %v, want not found", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Inspect wrote %v", ents)
	}
	if _, err := Load(Options{ConfDir: dir, Network: "other"}); !IsNotFound(err) {
		t.Fatalf("Load of a network that is not there: %v, want not found", err)
	}
	n, err := Load(Options{ConfDir: dir, PluginDirs: []string{"/usr/lib/cni", "/opt/cni/bin"}})
	if err != nil && !errors.Is(err, ErrPluginMissing) {
		t.Fatal(err)
	}
	if n == nil || n.Name() != DefaultNetwork || n.File != filepath.Join(dir, DefaultConfFile) {
		t.Fatalf("default network %+v", n)
	}
	data, _ := os.ReadFile(n.File)
	for _, want := range []string{`"bridge": "podbox0"`, `"subnet": "` + DefaultSubnet + `"`, `"type": "portmap"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("default configuration lacks %s:\n%s", want, data)
		}
	}
	if !strings.Contains(string(data), `"ipMasq": false`) {
		t.Errorf("the default network has the bridge plugin masquerade:\n%s", data)
	}
	if sn, err := n.MasqueradeSubnets(); err != nil || len(sn) != 1 || sn[0].String() != DefaultSubnet {
		t.Errorf("masquerade subnets %v, %v; want %s", sn, err, DefaultSubnet)
	}
	want := "bridge host-local portmap"
	if forwardDrops() {
		want += " firewall" // FORWARD drops here
	}
	if got := strings.Join(n.Plugins(), " "); got != want {
		t.Errorf("plugins %q, want %q", got, want)
	}
	if !strings.Contains(string(DefaultConfList(true)), `"type": "firewall"`) || strings.Contains(string(DefaultConfList(false)), "firewall") {
		t.Error("the firewall plugin is not added exactly when asked for")
	}
	// A second Load reads it back; the file is not rewritten.
	st1, _ := os.Stat(n.File)
	if _, err := Load(Options{ConfDir: dir}); err != nil && !errors.Is(err, ErrPluginMissing) {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(n.File); !os.SameFile(st1, st2) || st2.ModTime() != st1.ModTime() {
		t.Error("the default configuration was written again")
	}
}

// A plugin that is not installed is named, with the package to install.
func TestMissingPlugin(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(Options{ConfDir: dir, PluginDirs: []string{filepath.Join(dir, "no-plugins")}})
	if !errors.Is(err, ErrPluginMissing) || !strings.Contains(err.Error(), "bridge, host-local, portmap") ||
		!strings.Contains(err.Error(), "install containernetworking-plugins") {
		t.Errorf("Load without plugins: %v", err)
	}
}

// Del of an attachment that was never made (or is gone) does nothing.
func TestDelUnknownAttachment(t *testing.T) {
	if err := Del(context.Background(), Options{CacheDir: t.TempDir(), ConfDir: t.TempDir()}, "no-such-pod", "/nonexistent", nil); err != nil {
		t.Errorf("Del of an unknown attachment: %v", err)
	}
}
