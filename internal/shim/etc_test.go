package shim

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodHostname(t *testing.T) {
	long := strings.Repeat("a", 60) + "-b.c-" + strings.Repeat("d", 10) // '-' at index 62
	tests := []struct {
		name string
		pod  corev1.Pod
		want string
	}{
		{"pod name", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, "web"},
		{"spec.hostname", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Hostname: "h1", Subdomain: "s"}}, "h1"},
		{"63 characters", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("x", 63)}}, strings.Repeat("x", 63)},
		{"64 characters cut", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("x", 64)}}, strings.Repeat("x", 63)},
		{"cut, trailing -. removed", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: long}}, strings.Repeat("a", 60) + "-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PodHostname(&tt.pod)
			if err != nil || got != tt.want {
				t.Errorf("PodHostname = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("hostNetwork", func(t *testing.T) {
		host, err := os.Hostname()
		if err != nil {
			t.Fatal(err)
		}
		pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{HostNetwork: true, Hostname: "ignored"}}
		if got, err := PodHostname(&pod); err != nil || got != host {
			t.Errorf("PodHostname = %q, %v; want the host's %q", got, err, host)
		}
	})
}

const managedHeader = "# Kubernetes-managed hosts file.\n" +
	"127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n" +
	"fe00::0\tip6-localnet\n" +
	"fe00::0\tip6-mcastprefix\n" +
	"fe00::1\tip6-allnodes\n" +
	"fe00::2\tip6-allrouters\n"

func TestHostsFile(t *testing.T) {
	aliases := []corev1.HostAlias{
		{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}},
		{IP: "10.1.2.4", Hostnames: []string{"baz"}},
	}
	tests := []struct {
		name     string
		spec     corev1.PodSpec
		hostname string
		ips      []string
		want     string
	}{
		{"loopback only", corev1.PodSpec{}, "web", nil, managedHeader + "127.0.0.1\tweb\n"},
		{"pod IPs", corev1.PodSpec{}, "web", []string{"10.0.0.5", "fd00::5"}, managedHeader + "10.0.0.5\tweb\nfd00::5\tweb\n"},
		{"subdomain", corev1.PodSpec{Subdomain: "sub"}, "h", []string{"10.0.0.5"},
			managedHeader + "10.0.0.5\th.sub.ns1.svc.cluster.local\th\n"},
		{"host aliases", corev1.PodSpec{HostAliases: aliases}, "web", nil,
			managedHeader + "127.0.0.1\tweb\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n10.1.2.4\tbaz\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1"}, Spec: tt.spec}
			if diff := cmp.Diff(tt.want, string(HostsFile(pod, tt.hostname, tt.ips))); diff != "" {
				t.Errorf("HostsFile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostNetworkHostsFile(t *testing.T) {
	const header = "# Kubernetes-managed hosts file (host network).\n"
	withAliases := &corev1.Pod{Spec: corev1.PodSpec{HostAliases: []corev1.HostAlias{{IP: "1.2.3.4", Hostnames: []string{"a", "b"}}}}}
	plain := &corev1.Pod{}
	tests := []struct {
		name string
		pod  *corev1.Pod
		host string
		want string
	}{
		{"plain", plain, "127.0.0.1 localhost\n", header + "127.0.0.1 localhost\n"},
		{"no final newline", plain, "127.0.0.1 localhost", header + "127.0.0.1 localhost\n"},
		{"empty host file", plain, "", header},
		{"aliases", withAliases, "127.0.0.1 localhost", header + "127.0.0.1 localhost\n\n# Entries added by HostAliases.\n1.2.3.4\ta\tb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(HostNetworkHostsFile(tt.pod, []byte(tt.host)))); diff != "" {
				t.Errorf("HostNetworkHostsFile (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		name, in string
		want     DNS
	}{
		{"empty", "", DNS{}},
		{"typical", "# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3 # second\nsearch a.example b.example\noptions ndots:2 edns0\n",
			DNS{Nameservers: []string{"10.0.0.2", "10.0.0.3"}, Searches: []string{"a.example", "b.example"}, Options: []string{"ndots:2", "edns0"}}},
		{"last search wins", "search a\nsearch b c\n", DNS{Searches: []string{"b", "c"}}},
		{"domain", "domain corp.example\n", DNS{Searches: []string{"corp.example"}}},
		{"domain then search", "domain corp.example\nsearch x\n", DNS{Searches: []string{"x"}}},
		{"options accumulate", "options ndots:1\noptions rotate\n", DNS{Options: []string{"ndots:1", "rotate"}}},
		{"comments and junk", "; comment\n#nameserver 1.1.1.1\nnameserver\n  nameserver   9.9.9.9  \nbogus line here\n",
			DNS{Nameservers: []string{"9.9.9.9"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseResolvConf(strings.NewReader(tt.in))
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseResolvConf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodDNS(t *testing.T) {
	host := DNS{Nameservers: []string{"10.0.0.2", "10.0.0.3"}, Searches: []string{"corp.example"}, Options: []string{"ndots:1", "edns0"}}
	fallback := "ClusterFirst policy specified without a cluster DNS; falling back to the host's resolv.conf (dnsPolicy Default)"
	five, two := "5", "2"
	tests := []struct {
		name    string
		spec    corev1.PodSpec
		want    DNS
		warning string
	}{
		{"Default", corev1.PodSpec{DNSPolicy: corev1.DNSDefault}, host, ""},
		{"ClusterFirst falls back", corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst}, host, fallback},
		{"unset is ClusterFirst", corev1.PodSpec{}, host, fallback},
		{"ClusterFirst with hostNetwork is Default", corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirst, HostNetwork: true}, host, ""},
		{"ClusterFirstWithHostNet falls back", corev1.PodSpec{DNSPolicy: corev1.DNSClusterFirstWithHostNet, HostNetwork: true}, host, fallback},
		{"None without dnsConfig", corev1.PodSpec{DNSPolicy: corev1.DNSNone}, DNS{}, ""},
		{"None with dnsConfig", corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"1.1.1.1"}, Searches: []string{"s.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}},
		}}, DNS{Nameservers: []string{"1.1.1.1"}, Searches: []string{"s.example"}, Options: []string{"ndots:2"}}, ""},
		{"Default merged with dnsConfig", corev1.PodSpec{DNSPolicy: corev1.DNSDefault, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"10.0.0.3", "1.1.1.1"},
			Searches:    []string{"corp.example", "ns.svc.example"},
			Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: &five}, {Name: "edns0"}, {Name: "single-request-reopen"}},
		}}, DNS{
			Nameservers: []string{"10.0.0.2", "10.0.0.3", "1.1.1.1"},
			Searches:    []string{"corp.example", "ns.svc.example"},
			Options:     []string{"ndots:5", "edns0", "single-request-reopen"},
		}, ""},
		{"nameservers cut to 3", corev1.PodSpec{DNSPolicy: corev1.DNSDefault, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"},
		}}, DNS{Nameservers: []string{"10.0.0.2", "10.0.0.3", "1.1.1.1"}, Searches: host.Searches, Options: host.Options}, ""},
		{"None cut to 3", corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{
			Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "4.4.4.4"},
		}}, DNS{Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9"}}, ""},
		{"option value removed by override", corev1.PodSpec{DNSPolicy: corev1.DNSDefault, DNSConfig: &corev1.PodDNSConfig{
			Options: []corev1.PodDNSConfigOption{{Name: "ndots"}},
		}}, DNS{Nameservers: host.Nameservers, Searches: host.Searches, Options: []string{"ndots", "edns0"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hostCopy := DNS{
				Nameservers: append([]string(nil), host.Nameservers...),
				Searches:    append([]string(nil), host.Searches...),
				Options:     append([]string(nil), host.Options...),
			}
			pod := &corev1.Pod{Spec: tt.spec}
			got, warning := PodDNS(pod, hostCopy)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("PodDNS (-want +got):\n%s", diff)
			}
			if warning != tt.warning {
				t.Errorf("warning = %q, want %q", warning, tt.warning)
			}
			if diff := cmp.Diff(host, hostCopy); diff != "" {
				t.Errorf("PodDNS modified the host's DNS (-before +after):\n%s", diff)
			}
		})
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct {
		name string
		dns  DNS
		want string
	}{
		{"empty", DNS{}, ""},
		{"full", DNS{Nameservers: []string{"1.1.1.1", "8.8.8.8"}, Searches: []string{"a", "b"}, Options: []string{"ndots:5", "edns0"}},
			"search a b\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:5 edns0\n"},
		{"nameserver only", DNS{Nameservers: []string{"::1"}}, "nameserver ::1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.dns.ResolvConf()
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("ResolvConf (-want +got):\n%s", diff)
			}
			if back := ParseResolvConf(strings.NewReader(string(got))); !cmp.Equal(back, tt.dns, cmpopts.EquateEmpty()) {
				t.Errorf("ParseResolvConf(ResolvConf()) = %+v, want %+v", back, tt.dns)
			}
		})
	}
}
