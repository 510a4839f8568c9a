package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podbox/podbox/internal/cni"
	"github.com/podbox/podbox/internal/shim"
	"github.com/podbox/podbox/internal/testutil"
	"github.com/podbox/podbox/sandbox"
	corev1 "k8s.io/api/core/v1"
)

// webPod serves "hello from NAME" on port 80 with busybox httpd; hostPort
// (if not 0) publishes it on the host.
func webPod(name string, hostPort int) string {
	ports := ""
	if hostPort != 0 {
		ports = fmt.Sprintf(", ports: [{containerPort: 80, hostPort: %d}]", hostPort)
	}
	return `{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `}, spec: {terminationGracePeriodSeconds: 0, containers: [
	  {name: web, image: ` + testImage + `, command: [sh, -c, "mkdir -p /www && echo hello from ` + name + ` > /www/index.html && exec httpd -f -p 80 -h /www"]` + ports + `}]}}`
}

// podIP is a running pod's address, checked to be in the test network.
func (e *env) podIP(name string) string {
	e.t.Helper()
	p := e.wait(name, sandbox.PodReady)
	if p.Status.PodIP == "" || len(p.Status.PodIPs) == 0 || p.Status.PodIPs[0].IP != p.Status.PodIP {
		e.t.Fatalf("pod %s has no pod IP: %+v", name, p.Status)
	}
	if ip := net.ParseIP(p.Status.PodIP); ip == nil || !e.net.Subnet.Contains(ip) {
		e.t.Fatalf("pod %s's IP %s is not in the test network %s", name, p.Status.PodIP, e.net.Subnet)
	}
	return p.Status.PodIP
}

// httpGet fetches url from the host, retrying while the server starts.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := client.Get(url)
		if err != nil {
			last = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == 200 {
			return string(body)
		}
		last = fmt.Errorf("status %d, %w", resp.StatusCode, err)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// Pod A serves HTTP on its pod IP: pod B and the host reach it; /etc/hosts
// maps the pod IP to the pod's name; the addresses are released when the
// pods are deleted and nothing of the attachments is left.
func TestPodToPodAndHost(t *testing.T) {
	e := newEnv(t)
	e.run(webPod("web-a", 0))
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: client-b}, spec: {terminationGracePeriodSeconds: 0, containers: [
	  {name: c, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	ipA, ipB := e.podIP("web-a"), e.podIP("client-b")
	if ipA == ipB {
		t.Fatalf("both pods got %s", ipA)
	}
	if got := httpGet(t, "http://"+ipA+"/"); got != "hello from web-a\n" {
		t.Errorf("host -> pod A: %q", got)
	}
	var out string
	var code int
	eventually(t, 10*time.Second, func() string {
		// (busybox wget's -T crashes: the retries bound the time.)
		out, code = e.exec("client-b", "c", "wget", "-qO-", "http://"+ipA+"/")
		if code != 0 || out != "hello from web-a\n" {
			return fmt.Sprintf("pod B -> pod A: exit %d, %q", code, out)
		}
		return ""
	})
	hosts, _ := e.exec("web-a", "web", "cat", "/etc/hosts")
	if !strings.Contains(hosts, ipA+"\tweb-a\n") {
		t.Errorf("/etc/hosts of web-a does not map %s to web-a:\n%s", ipA, hosts)
	}
	if addr, _ := e.exec("web-a", "web", "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(addr, ipA+"/") {
		t.Errorf("eth0 of web-a: %q, want %s", addr, ipA)
	}
	for _, name := range []string{"web-a", "client-b"} {
		if err := e.rt.Delete(context.Background(), "default", name, sandbox.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// assertClean checks the addresses are released (host-local hands
	// them out again once its range wraps round).
	e.assertClean()
}

// hostPort publishes a pod's port on the host's own address; a second pod
// asking for it is refused before anything is made; the port is released
// with the pod.
func TestHostPort(t *testing.T) {
	e := newEnv(t)
	e.run(webPod("published", 18080))
	e.podIP("published")
	hostIP := shim.HostIP()
	if hostIP == "" {
		t.Fatal("the host has no address to reach the port on")
	}
	if got := httpGet(t, "http://"+net.JoinHostPort(hostIP, "18080")+"/"); got != "hello from published\n" {
		t.Errorf("host:18080 -> %q", got)
	}
	_, err := e.rt.Run(context.Background(), pod(t, webPod("second", 18080)))
	if !errors.Is(err, sandbox.ErrPortInUse) || !strings.Contains(err.Error(), "spec.containers[0].ports[0].hostPort: 18080/TCP is held by pod default/published") {
		t.Errorf("second pod on host port 18080: %v", err)
	}
	if _, err := e.rt.Get(context.Background(), "default", "second"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Errorf("the refused pod exists: %v", err)
	}
	if err := e.rt.Delete(context.Background(), "default", "published", sandbox.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(hostIP, "18080"), time.Second)
	if err == nil {
		c.Close()
		t.Error("host port 18080 still answers after the pod was deleted")
	}
	// Free again for another pod.
	e.run(webPod("again", 18080))
	e.podIP("again")
	if got := httpGet(t, "http://"+net.JoinHostPort(hostIP, "18080")+"/"); got != "hello from again\n" {
		t.Errorf("host:18080 after re-use -> %q", got)
	}
}

// resolv.conf for each dnsPolicy and a dnsConfig, as the kubelet writes
// it; /etc/hosts with hostAliases.
func TestDNSAndHosts(t *testing.T) {
	e := newEnv(t)
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	e.run(`
apiVersion: v1
kind: Pod
metadata: {name: dns}
spec:
  terminationGracePeriodSeconds: 0
  dnsPolicy: None
  dnsConfig:
    nameservers: [127.0.0.1, 127.0.0.2]
    searches: [one.example, two.example]
    options: [{name: ndots, value: "2"}, {name: edns0}]
  hostAliases:
  - {ip: 127.0.0.3, hostnames: [alias-one, alias-two]}
  containers:
  - {name: c, image: ` + testImage + `, command: [sleep, "1000"]}
`)
	ip := e.podIP("dns")
	resolv, _ := e.exec("dns", "c", "cat", "/etc/resolv.conf")
	// The order containerd writes it in for the kubelet.
	if want := "search one.example two.example\nnameserver 127.0.0.1\nnameserver 127.0.0.2\noptions ndots:2 edns0\n"; resolv != want {
		t.Errorf("resolv.conf with dnsPolicy None:\n%s\nwant:\n%s", resolv, want)
	}
	hosts, _ := e.exec("dns", "c", "cat", "/etc/hosts")
	wantHosts := "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n" +
		ip + "\tdns\n\n# Entries added by HostAliases.\n127.0.0.3\talias-one\talias-two\n"
	if hosts != wantHosts {
		t.Errorf("/etc/hosts:\n%q\nwant:\n%q", hosts, wantHosts)
	}
	// Default: the host's resolv.conf (its nameservers, searches and
	// options); ClusterFirst falls back to it with a warning.
	for _, policy := range []string{"Default", "ClusterFirst"} {
		name := "dns-" + strings.ToLower(policy)
		e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `}, spec: {terminationGracePeriodSeconds: 0, dnsPolicy: ` + policy + `,
		  containers: [{name: c, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
		e.podIP(name)
		got, _ := e.exec(name, "c", "cat", "/etc/resolv.conf")
		for _, l := range strings.Split(string(hostResolv), "\n") {
			if strings.HasPrefix(l, "nameserver ") && !strings.Contains(got, l+"\n") {
				t.Errorf("dnsPolicy %s: resolv.conf lacks the host's %q:\n%s", policy, l, got)
			}
		}
	}
	log, _ := os.ReadFile(filepath.Join(e.state, "pods", "default", "dns-clusterfirst", "shim.log"))
	if !strings.Contains(string(log), "ClusterFirst policy specified without a cluster DNS") {
		t.Errorf("no warning for ClusterFirst without a cluster DNS in the shim log:\n%s", log)
	}
}

// hostNetwork: the pod sees the host's interfaces, no CNI attachment is
// made, its pod IP is the host's.
func TestHostNetworkPod(t *testing.T) {
	e := newEnv(t)
	e.run(`{apiVersion: v1, kind: Pod, metadata: {name: onhost}, spec: {terminationGracePeriodSeconds: 0, hostNetwork: true,
	  containers: [{name: c, image: ` + testImage + `, command: [sleep, "1000"]}]}}`)
	p := e.wait("onhost", sandbox.PodReady)
	if hostIP := shim.HostIP(); p.Status.PodIP != hostIP {
		t.Errorf("pod IP %q, want the host's %q", p.Status.PodIP, hostIP)
	}
	out, _ := e.exec("onhost", "c", "ls", "/sys/class/net")
	hostIfs, _ := os.ReadDir("/sys/class/net")
	var want []string
	for _, i := range hostIfs {
		want = append(want, i.Name())
	}
	sort.Strings(want)
	got := strings.Fields(out)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("interfaces in the pod %v, on the host %v", got, want)
	}
	if ifs, _ := os.ReadDir("/sys/class/net/" + e.net.Bridge + "/brif"); len(ifs) != 0 {
		t.Errorf("a hostNetwork pod was attached to the bridge: %v", ifs)
	}
}

// Fifty pods started at once get fifty addresses; deleting them leaves no
// interface, address, iptables rule or namespace; nor does a pod whose shim
// and keeper were killed, once deleted.
func TestFiftyPodsAndKilledShim(t *testing.T) {
	e := newEnv(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every fifth publishes a port of its own.
			hp := 0
			if i%5 == 0 {
				hp = 18100 + i
			}
			_, errs[i] = e.rt.Run(context.Background(), pod(t, webPod(fmt.Sprintf("many-%d", i), hp)))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("many-%d", i)
		ip := e.podIP(name)
		if other, dup := seen[ip]; dup {
			t.Errorf("%s and %s both have %s", name, other, ip)
		}
		seen[ip] = name
	}
	// A sample of them answers.
	for _, i := range []int{0, 17, 49} {
		name := fmt.Sprintf("many-%d", i)
		if got := httpGet(t, "http://"+e.podIP(name)+"/"); got != "hello from "+name+"\n" {
			t.Errorf("%s answered %q", name, got)
		}
	}
	killShimAndKeeper(t, e, "many-10")
	var dwg sync.WaitGroup
	zero := int64(0)
	for i := 0; i < n; i++ {
		dwg.Add(1)
		go func() {
			defer dwg.Done()
			errs[i] = e.rt.Delete(context.Background(), "default", fmt.Sprintf("many-%d", i), sandbox.DeleteOptions{GracePeriod: &zero, Force: i == 10})
		}()
	}
	dwg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	e.assertClean()
	// No netns pin of any of them is mounted any more.
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), filepath.Join(e.state, "pods")) {
		t.Errorf("mounts of the pods are left:\n%s", mounts)
	}
	if err := syscall.Access(filepath.Join(e.net.DataDir, e.net.Name), syscall.F_OK); err == nil {
		ents, _ := os.ReadDir(filepath.Join(e.net.DataDir, e.net.Name))
		for _, ent := range ents {
			if net.ParseIP(ent.Name()) != nil {
				t.Errorf("address %s is still reserved", ent.Name())
			}
		}
	}
}

// A network that asks for it masquerades at the network level, as podbox's
// default network does: a pod reaches a host beyond this one (a namespace
// of the test's with no route back to the pods) and is seen there with the
// host's address. No iptables rule is made for the pod, and the network's
// rules are there once however many pods start.
func TestNetworkMasquerade(t *testing.T) {
	n := testutil.OwnNetwork(t, true)
	out := testutil.NewOutside(t)
	e := newEnv(t, func(o *sandbox.Options) { o.CNIConfDir, o.Network = n.ConfDir, n.Name })

	www := t.TempDir()
	if err := os.MkdirAll(filepath.Join(www, "cgi-bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n"
	if err := os.WriteFile(filepath.Join(www, "cgi-bin", "addr"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command("ip", "netns", "exec", out.NS, "busybox", "httpd", "-f", "-p", "8080", "-h", www)
	if err := srv.Start(); err != nil {
		t.Fatalf("httpd in %s: %v", out.NS, err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })

	url := fmt.Sprintf("http://%s:8080/cgi-bin/addr", out.PeerIP)
	for _, name := range []string{"masq-a", "masq-b"} {
		e.run(`{apiVersion: v1, kind: Pod, metadata: {name: ` + name + `}, spec: {restartPolicy: OnFailure, terminationGracePeriodSeconds: 0,
 dnsPolicy: None, dnsConfig: {nameservers: [127.0.0.1]}, containers: [
  {name: get, image: ` + testImage + `, command: [wget, -q, -O, "-", "` + url + `"]}]}}`)
	}
	for _, name := range []string{"masq-a", "masq-b"} {
		p := e.wait(name, sandbox.PodPhase(corev1.PodSucceeded))
		// busybox httpd gives the address as [::ffff:A.B.C.D].
		got := strings.TrimSpace(e.logs(name, "get"))
		if ip := net.ParseIP(strings.Trim(got, "[]")); !ip.Equal(out.HostIP) {
			t.Errorf("%s (pod IP %s) was seen outside as %q, want the host's %s", name, p.Status.PodIP, got, out.HostIP)
		}
	}

	chain := cni.MasqueradeChain(n.Name)
	nat, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	var jumps, rules []string
	for _, l := range strings.Split(string(nat), "\n") {
		switch {
		case strings.HasPrefix(l, "-A POSTROUTING ") && strings.HasSuffix(l, " -j "+chain):
			jumps = append(jumps, l)
		case strings.HasPrefix(l, "-A "+chain+" "):
			rules = append(rules, l)
		case strings.HasPrefix(l, "-A ") && strings.Contains(l, "CNI-") && strings.Contains(l, n.Subnet.IP.String()[:len(n.Subnet.IP.String())-1]):
			t.Errorf("a rule of the bridge plugin's masquerading: %s", l)
		}
	}
	wantRules := []string{
		"-A " + chain + " -d " + n.Subnet.String() + " -j RETURN",
		"-A " + chain + " -d 224.0.0.0/4 -j RETURN",
		"-A " + chain + " -j MASQUERADE",
	}
	if len(jumps) != 1 || !strings.Contains(jumps[0], "-s "+n.Subnet.String()) || strings.Join(rules, "\n") != strings.Join(wantRules, "\n") {
		t.Errorf("masquerading rules:\n%s\n%s\nwant one jump from POSTROUTING for %s and\n%s", strings.Join(jumps, "\n"), strings.Join(rules, "\n"),
			n.Subnet, strings.Join(wantRules, "\n"))
	}
	in := e.rt.Info()
	if strings.Join(in.NetworkMasquerade, " ") != n.Subnet.String() || in.NetworkMasqueradeChain != chain {
		t.Errorf("info: masquerade %v chain %q", in.NetworkMasquerade, in.NetworkMasqueradeChain)
	}
}
