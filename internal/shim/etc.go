package shim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PodHostname is the hostname a pod's containers see: spec.hostname, or the
// pod name cut to 63 characters (trailing '-' and '.' removed), as the
// kubelet does. hostNetwork pods see the host's.
func PodHostname(pod *corev1.Pod) (string, error) {
	if pod.Spec.HostNetwork {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("read host name: %w", err)
		}
		return h, nil
	}
	if pod.Spec.Hostname != "" {
		return pod.Spec.Hostname, nil
	}
	h := pod.Name
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h, nil
}

// HostsFile renders /etc/hosts as the kubelet writes it for a pod with its
// own network namespace. ips are the pod's addresses; a pod with loopback
// only maps its hostname to 127.0.0.1.
func HostsFile(pod *corev1.Pod, hostname string, ips []string) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file.\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("fe00::0\tip6-mcastprefix\n")
	b.WriteString("fe00::1\tip6-allnodes\n")
	b.WriteString("fe00::2\tip6-allrouters\n")
	if len(ips) == 0 {
		ips = []string{"127.0.0.1"}
	}
	for _, ip := range ips {
		if pod.Spec.Subdomain != "" {
			fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.cluster.local\t%s\n", ip, hostname, pod.Spec.Subdomain, pod.Namespace, hostname)
		} else {
			fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
		}
	}
	b.Write(hostAliases(pod))
	return b.Bytes()
}

// HostNetworkHostsFile is the host's /etc/hosts plus the pod's host aliases.
func HostNetworkHostsFile(pod *corev1.Pod, hostHosts []byte) []byte {
	var b bytes.Buffer
	b.WriteString("# Kubernetes-managed hosts file (host network).\n")
	b.Write(hostHosts)
	if len(hostHosts) > 0 && hostHosts[len(hostHosts)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.Write(hostAliases(pod))
	return b.Bytes()
}

func hostAliases(pod *corev1.Pod) []byte {
	if len(pod.Spec.HostAliases) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("\n# Entries added by HostAliases.\n")
	for _, a := range pod.Spec.HostAliases {
		fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
	}
	return b.Bytes()
}

// DNS is the content of a resolv.conf.
type DNS struct {
	Nameservers, Searches, Options []string
}

// ParseResolvConf reads the nameserver, search/domain and options lines of
// a resolv.conf.
func ParseResolvConf(r io.Reader) DNS {
	var d DNS
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			d.Nameservers = append(d.Nameservers, f[1])
		case "search":
			d.Searches = f[1:]
		case "domain":
			d.Searches = []string{f[1]}
		case "options":
			d.Options = append(d.Options, f[1:]...)
		}
	}
	return d
}

// PodDNS computes a pod's resolv.conf from its dnsPolicy and dnsConfig and
// the host's resolv.conf, as the kubelet does on a node without cluster DNS
// (ClusterFirst falls back to Default; the returned warning says so).
func PodDNS(pod *corev1.Pod, host DNS) (DNS, string) {
	var d DNS
	var warning string
	switch pod.Spec.DNSPolicy {
	case corev1.DNSNone:
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, "":
		if pod.Spec.DNSPolicy != corev1.DNSClusterFirst || !pod.Spec.HostNetwork {
			warning = "ClusterFirst policy specified without a cluster DNS; falling back to the host's resolv.conf (dnsPolicy Default)"
		}
		d = host
	default: // Default
		d = host
	}
	if c := pod.Spec.DNSConfig; c != nil {
		d.Nameservers = appendUnique(d.Nameservers, c.Nameservers...)
		d.Searches = appendUnique(d.Searches, c.Searches...)
		d.Options = mergeOptions(d.Options, c.Options)
	}
	if len(d.Nameservers) > 3 {
		d.Nameservers = d.Nameservers[:3]
	}
	return d, warning
}

func appendUnique(list []string, add ...string) []string {
	out := append([]string(nil), list...)
	for _, a := range add {
		dup := false
		for _, x := range out {
			dup = dup || x == a
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// mergeOptions merges pod dnsConfig options over the base ones by name (a
// pod option replaces the base option with the same name).
func mergeOptions(base []string, opts []corev1.PodDNSConfigOption) []string {
	out := append([]string(nil), base...)
	for _, o := range opts {
		v := o.Name
		if o.Value != nil {
			v += ":" + *o.Value
		}
		replaced := false
		for i, x := range out {
			if name, _, _ := strings.Cut(x, ":"); name == o.Name {
				out[i], replaced = v, true
			}
		}
		if !replaced {
			out = append(out, v)
		}
	}
	return out
}

// ResolvConf renders a resolv.conf the way the CRI runtimes write it.
func (d DNS) ResolvConf() []byte {
	var b bytes.Buffer
	if len(d.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(d.Searches, " "))
	}
	for _, ns := range d.Nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(d.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(d.Options, " "))
	}
	return b.Bytes()
}
