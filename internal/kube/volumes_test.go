package kube

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidateVolumes(t *testing.T) {
	hp := func(typ corev1.HostPathType) corev1.VolumeSource {
		return corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv", Type: &typ}}
	}
	prop := func(m corev1.MountPropagationMode, privileged bool) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: hp("")}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v", MountPropagation: &m}}
			if privileged {
				p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr(true)}
			}
		}
	}
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"every supported type", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{
				{Name: "a", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
				{Name: "b", VolumeSource: hp(corev1.HostPathSocket)},
				{Name: "c", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
				{Name: "d", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
				{Name: "e", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
					{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
					{Path: "app", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}},
					{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "app", Resource: "limits.memory"}},
				}}}},
			}
			for _, v := range p.Spec.Volumes {
				p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: "/" + v.Name})
			}
		}, nil},
		{"unsupported types by name", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{
				{Name: "claim", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "c"}}},
				{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s", Path: "/x"}}},
				{Name: "csi", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d"}}},
			}
		}, []string{
			"spec.volumes[0].persistentVolumeClaim: Forbidden: volume type persistentVolumeClaim is not supported by podbox (supported: configMap, downwardAPI, emptyDir, hostPath, secret)",
			"spec.volumes[1].nfs: Forbidden: volume type nfs is not supported by podbox (supported: configMap, downwardAPI, emptyDir, hostPath, secret)",
			"spec.volumes[2].csi: Forbidden: volume type csi is not supported by podbox (supported: configMap, downwardAPI, emptyDir, hostPath, secret)",
		}},
		{"bad hostPath type and emptyDir medium", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a", VolumeSource: hp("Dir")},
				{Name: "b", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumHugePages}}}}
		}, []string{
			`spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"`,
			`spec.volumes[1].emptyDir.medium: Unsupported value: "HugePages": supported values: "", "Memory"`,
		}},
		{"downwardAPI items", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "../x", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}},
				{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}},
				{Path: "none"},
			}}}}}
		}, []string{
			`spec.volumes[0].downwardAPI.items[0].path: Invalid value: "../x": must not contain '..'`,
			`spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "status.podIP": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"`,
			"spec.volumes[0].downwardAPI.items[1].resourceFieldRef.containerName: Required value",
			"spec.volumes[0].downwardAPI.items[2]: Required value: one of fieldRef and resourceFieldRef is required",
		}},
		{"Bidirectional needs privileged", prop(corev1.MountPropagationBidirectional, false), []string{
			"spec.containers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers",
		}},
		{"HostToContainer", prop(corev1.MountPropagationHostToContainer, false), nil},
		{"unknown propagation", prop("Sideways", false), []string{
			`spec.containers[0].volumeMounts[0].mountPropagation: Unsupported value: "Sideways": supported values: "None", "HostToContainer", "Bidirectional"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range errStrings(Validate(testPod(tc.mutate))) {
				// The privileged container's securityContext is another part's concern.
				if !strings.Contains(e, "securityContext") {
					got = append(got, e)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretVolumeDefaultModeUnset(t *testing.T) {
	p := testPod(func(p *corev1.Pod) {
		p.Spec.Volumes = []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}}}
	})
	if m := p.Spec.Volumes[0].Secret.DefaultMode; m != nil {
		t.Errorf("secret defaultMode defaulted to %o: podbox writes 0400 when unset", *m)
	}
}

func TestDecodeConfigMapAndSecret(t *testing.T) {
	m, err := Decode(strings.NewReader(`
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a: "1"}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: s}
  data: {pw: aHVudGVyMg==}
  stringData: {user: admin}
- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: busybox}]}}
`), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pods) != 1 || len(m.ConfigMaps) != 1 || len(m.Secrets) != 1 {
		t.Fatalf("decoded %d pods, %d configmaps, %d secrets", len(m.Pods), len(m.ConfigMaps), len(m.Secrets))
	}
	s := m.Secrets[0]
	NormalizeSecret(s)
	if string(s.Data["pw"]) != "hunter2" || string(s.Data["user"]) != "admin" || s.StringData != nil {
		t.Errorf("secret data %q, stringData %v", s.Data, s.StringData)
	}
	_, err = Decode(strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: 1}\nimmutabel: true\n"), "cm.yaml")
	want := "cm.yaml: document 1: data[a]: expected a string, got number 1\ncm.yaml: document 1: immutabel: unknown field"
	if err == nil || err.Error() != want {
		t.Errorf("strict ConfigMap: %v, want %s", err, want)
	}
	bad := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "Bad", Namespace: "default"}, Data: map[string]string{"a/b": ""}, BinaryData: map[string][]byte{"x": nil}}
	bad.Data["x"] = ""
	if got := errStrings(ValidateConfigMap(bad)); len(got) != 3 {
		t.Errorf("ValidateConfigMap: %q", got)
	}
}

func TestResolveEnv(t *testing.T) {
	objs := NewObjects("ns", []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"a": "1", "b": "2", "bad=key": "x"}}},
		[]corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"pw": []byte("x")}, StringData: map[string]string{"user": "u"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "elsewhere"}}})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u-1", Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{NodeName: "node", ServiceAccountName: "sa"}}
	facts := PodFacts{PodIPs: []string{"10.0.0.2", "fd00::2"}, HostIPs: []string{"192.168.1.1"}, CPUs: 2, Memory: 4 << 30}
	ref := func(vf corev1.EnvVarSource) corev1.EnvVar { return corev1.EnvVar{Name: "V", ValueFrom: &vf} }
	c := &corev1.Container{Name: "c",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
		EnvFrom: []corev1.EnvFromSource{
			{Prefix: "C_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
			{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "other"}, Optional: ptr(true)}},
		},
		Env: []corev1.EnvVar{
			{Name: "PLAIN", Value: "$(C_a)-$(IP)"},
			ref(corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "user"}}),
			ref(corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIPs"}}),
			ref(corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}),
			ref(corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}),
			ref(corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.cpu", Divisor: resource.MustParse("1m")}}),
			ref(corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Gi")}}),
			ref(corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "zz", Optional: ptr(true)}}),
		},
	}
	c.Env[2].Name = "IP"
	refs, err := ResolveEnv(pod, c, objs, facts)
	if err != nil {
		t.Fatal(err)
	}
	if !refs.Secret || len(refs.Skipped) != 1 || refs.Skipped[0] != "C_bad=key" {
		t.Errorf("Secret %v, Skipped %q", refs.Secret, refs.Skipped)
	}
	got := ContainerEnvRefs(c, refs)
	want := []string{"C_a=1", "C_b=2", "PLAIN=1-$(IP)", "V=4", "IP=10.0.0.2,fd00::2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	wantRefs := map[int]string{1: "u", 2: "10.0.0.2,fd00::2", 3: "x", 4: "2", 5: "250", 6: "4"}
	if diff := cmp.Diff(wantRefs, refs.ValueFrom); diff != "" {
		t.Errorf("ValueFrom (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		env  corev1.EnvVar
		want string
	}{
		{ref(corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "a"}}), `configmap "nope" not found`},
		{ref(corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "zz"}}), "couldn't find key zz in ConfigMap ns/cfg"},
		{ref(corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "other"}, Key: "a"}}), `secret "other" not found`},
		{ref(corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "zz"}}), "couldn't find key zz in Secret ns/s"},
	} {
		_, err := ResolveEnv(pod, &corev1.Container{Env: []corev1.EnvVar{tc.env}}, objs, facts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %s", tc.env.ValueFrom, err, tc.want)
		}
	}
}

func TestVolumeFiles(t *testing.T) {
	objs := NewObjects("ns", []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"a": "1"}, BinaryData: map[string][]byte{"b": {0}}}},
		[]corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: map[string][]byte{"pw": []byte("x")}}})
	files, err := ConfigMapFiles(&corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr(int32(0o600))}, objs)
	if diff := cmp.Diff([]File{{"a", []byte("1"), 0o600}, {"b", []byte{0}, 0o600}}, files); err != nil || diff != "" {
		t.Errorf("ConfigMapFiles: %v (-want +got):\n%s", err, diff)
	}
	files, err = SecretFiles(&corev1.SecretVolumeSource{SecretName: "s", Items: []corev1.KeyToPath{{Key: "pw", Path: "d/pw", Mode: ptr(int32(0o440))}, {Key: "pw", Path: "pw"}}}, objs)
	if diff := cmp.Diff([]File{{"d/pw", []byte("x"), 0o440}, {"pw", []byte("x"), os.FileMode(SecretVolumeDefaultMode)}}, files); err != nil || diff != "" {
		t.Errorf("SecretFiles: %v (-want +got):\n%s", err, diff)
	}
	if _, err := SecretFiles(&corev1.SecretVolumeSource{SecretName: "s", Items: []corev1.KeyToPath{{Key: "no", Path: "x"}}}, objs); err == nil || err.Error() != "references non-existent secret key: no" {
		t.Errorf("missing secret key: %v", err)
	}
	if files, err := SecretFiles(&corev1.SecretVolumeSource{SecretName: "absent", Optional: ptr(true)}, objs); err != nil || files != nil {
		t.Errorf("optional missing secret: %v, %v", files, err)
	}
	if _, err := ConfigMapFiles(&corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}}, objs); err == nil || err.Error() != `configmap "absent" not found` {
		t.Errorf("missing configmap: %v", err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"b": "two words", "a": `q"uote`}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}}}}
	files, err = DownwardAPIFiles(pod, &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
		{Path: "ann", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
		{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
	}}, PodFacts{})
	want := []File{{"ann", []byte("a=\"q\\\"uote\"\nb=\"two words\""), 0o644}, {"mem", []byte("64"), 0o644}}
	if diff := cmp.Diff(want, files); err != nil || diff != "" {
		t.Errorf("DownwardAPIFiles: %v (-want +got):\n%s", err, diff)
	}
}
