package sandbox_test

import (
	"os"
	"strings"
	"testing"

	"github.com/podbox/podbox/sandbox"
)

// hostNetwork, hostPID and hostIPC put containers in the host's
// namespaces.
func TestHostNamespaces(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: hostns}
spec:
  hostNetwork: true
  hostPID: true
  hostIPC: true
  containers:
  - {name: a, image: ` + testImage + `, command: [sleep, "1000"]}
`)
	e.wait("hostns", sandbox.PodReady)
	for _, ns := range []string{"net", "pid", "ipc", "uts"} {
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		out, _ := e.exec("hostns", "a", "readlink", "/proc/self/ns/"+ns)
		if strings.TrimSpace(out) != host {
			t.Errorf("%s namespace %q, want the host's %q", ns, out, host)
		}
	}
	hostname, _ := os.Hostname()
	if out, _ := e.exec("hostns", "a", "hostname"); strings.TrimSpace(out) != hostname {
		t.Errorf("hostname %q, want the host's %q", out, hostname)
	}
	// A private mount namespace and rootfs all the same.
	host, _ := os.Readlink("/proc/self/ns/mnt")
	if out, _ := e.exec("hostns", "a", "readlink", "/proc/self/ns/mnt"); strings.TrimSpace(out) == host {
		t.Error("container shares the host's mount namespace")
	}
}

// /etc/resolv.conf, /etc/hosts and /etc/hostname are written as the kubelet
// writes them.
func TestEtcFiles(t *testing.T) {
	e := newEnv(t)
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: etc}
spec:
  hostname: myhost
  subdomain: sub
  dnsPolicy: None
  dnsConfig:
    nameservers: [127.0.0.1]
    searches: [a.local, b.local]
    options: [{name: ndots, value: "2"}, {name: edns0}]
  hostAliases:
  - {ip: 10.1.2.3, hostnames: [foo.local, bar.local]}
  containers:
  - {name: a, image: ` + testImage + `, command: [sleep, "1000"]}
`)
	ip := e.podIP("etc")
	if out, _ := e.exec("etc", "a", "cat", "/etc/resolv.conf"); out != "search a.local b.local\nnameserver 127.0.0.1\noptions ndots:2 edns0\n" {
		t.Errorf("resolv.conf:\n%s", out)
	}
	hosts, _ := e.exec("etc", "a", "cat", "/etc/hosts")
	for _, want := range []string{
		"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n",
		ip + "\tmyhost.sub.default.svc.cluster.local\tmyhost\n",
		"# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n",
	} {
		if !strings.Contains(hosts, want) {
			t.Errorf("/etc/hosts lacks %q:\n%s", want, hosts)
		}
	}
	if out, _ := e.exec("etc", "a", "cat", "/etc/hostname"); out != "myhost\n" {
		t.Errorf("/etc/hostname %q", out)
	}
	if out, _ := e.exec("etc", "a", "hostname"); out != "myhost\n" {
		t.Errorf("hostname %q", out)
	}
}
