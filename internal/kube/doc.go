// Package kube turns Kubernetes manifests into validated, defaulted Pods and holds the
// kubelet's rules for a container's command and environment.
//
// The flow for one input file is:
//
//	m, err := kube.Decode(f, "pod.yaml") // strict: every unknown field is reported
//	for _, pod := range m.Pods {
//		kube.SetDefaults(pod)             // what the API server would fill in
//		if errs := kube.Validate(pod); len(errs) > 0 {
//			return errs.ToAggregate()      // reads like the API server
//		}
//		for _, w := range kube.Warnings(pod) { ... } // accepted but meaningless on one host
//	}
//
// Decode, SetDefaults and Validate follow the API server (k8s.io/kubernetes
// pkg/apis/core/v1/defaults.go and pkg/apis/core/validation), restricted to what makes
// sense on one host. Features podbox does not implement yet are refused by name: the rules
// live in one table in unsupported.go, so each can be deleted when its feature lands.
//
// Command, ContainerEnv and Env reproduce the kubelet and the CRI runtime: how the process
// arguments are built from the container and the image config, and how $(VAR) references
// are expanded (k8s.io/kubernetes third_party/forked/golang/expansion).
//
// EffectiveSecurityContext, NoNewPrivileges, Seccomp and VerifyRunAsNonRoot hold the
// kubelet's (and containerd's) rules for a container's securityContext: how the pod's and
// the container's merge, and podbox's hardened defaults (no_new_privs, seccomp
// RuntimeDefault); SysctlNamespace says which sysctls a pod may set.
//
// ResolveEnv, ConfigMapFiles, SecretFiles and DownwardAPIFiles look up, as the kubelet
// does, what a container's envFrom and env[].valueFrom and a pod's configMap, secret and
// downwardAPI volumes refer to: the ConfigMaps and Secrets given with the pod (Objects,
// from kind: ConfigMap and kind: Secret documents next to it) and the pod's own fields.
//
// Everything here is pure: no I/O besides reading the manifest, no logging, no globals
// that change.
package kube
