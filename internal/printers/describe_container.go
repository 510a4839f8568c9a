package printers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// containers is kubectl's describeContainers: one block per container of
// the spec, with its status (matched by name) when there is one.
func (d *describer) containers(label string, cs []corev1.Container, statuses []corev1.ContainerStatus, pod *corev1.Pod) {
	byName := make(map[string]corev1.ContainerStatus, len(statuses))
	for _, s := range statuses {
		byName[s.Name] = s
	}
	if len(cs) == 0 {
		d.write(0, "%s: <none>\n", label)
	} else {
		d.write(0, "%s:\n", label)
	}
	for i := range cs {
		c := &cs[i]
		status, ok := byName[c.Name]
		d.containerBasics(c, status, ok)
		d.command("Command", c.Command)
		d.command("Args", c.Args)
		if ok {
			d.containerState("State", status.State)
			if status.LastTerminationState.Terminated != nil {
				d.containerState("Last State", status.LastTerminationState)
			}
			d.write(2, "Ready:\t%v\n", printBool(status.Ready))
			d.write(2, "Restart Count:\t%d\n", status.RestartCount)
		}
		d.resources(&c.Resources, 2)
		for _, p := range []struct {
			title string
			probe *corev1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if p.probe != nil {
				d.write(2, "%s:\t%s\n", p.title, describeProbe(p.probe))
			}
		}
		if len(c.EnvFrom) > 0 {
			d.envFrom(c.EnvFrom)
		}
		d.env(c, pod)
		d.mounts(c)
	}
}

// containerBasics is kubectl's describeContainerBasicInfo.
func (d *describer) containerBasics(c *corev1.Container, status corev1.ContainerStatus, ok bool) {
	d.write(1, "%v:\n", c.Name)
	if ok {
		d.write(2, "Container ID:\t%s\n", status.ContainerID)
	}
	d.write(2, "Image:\t%s\n", c.Image)
	if ok {
		d.write(2, "Image ID:\t%s\n", status.ImageID)
	}
	containerPorts := describePorts(c.Ports, func(p corev1.ContainerPort) int32 { return p.ContainerPort })
	if strings.Contains(containerPorts, ",") {
		d.write(2, "Ports:\t%s\n", containerPorts)
	} else {
		d.write(2, "Port:\t%s\n", orNone(containerPorts))
	}
	hostPorts := describePorts(c.Ports, func(p corev1.ContainerPort) int32 { return p.HostPort })
	if strings.Contains(hostPorts, ",") {
		d.write(2, "Host Ports:\t%s\n", hostPorts)
	} else {
		d.write(2, "Host Port:\t%s\n", orNone(hostPorts))
	}
	if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		d.seccomp(2, sc.SeccompProfile)
	}
}

// describePorts lists ports as "8080/TCP (name), 53/UDP", numbered by num.
func describePorts(ports []corev1.ContainerPort, num func(corev1.ContainerPort) int32) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprintf("%d/%s", num(p), p.Protocol)
		if p.Name != "" {
			s[i] += " (" + p.Name + ")"
		}
	}
	return strings.Join(s, ", ")
}

// command lists a container's command or args, one line per line of each
// word.
func (d *describer) command(title string, words []string) {
	if len(words) == 0 {
		return
	}
	d.write(2, "%s:\n", title)
	for _, w := range words {
		for _, line := range strings.Split(w, "\n") {
			d.write(3, "%s\n", line)
		}
	}
}

// containerState is kubectl's describeStatus.
func (d *describer) containerState(title string, s corev1.ContainerState) {
	switch {
	case s.Running != nil:
		d.write(2, "%s:\tRunning\n", title)
		d.write(3, "Started:\t%v\n", formatTime(s.Running.StartedAt.Time))
	case s.Waiting != nil:
		d.write(2, "%s:\tWaiting\n", title)
		if s.Waiting.Reason != "" {
			d.write(3, "Reason:\t%s\n", s.Waiting.Reason)
		}
	case s.Terminated != nil:
		t := s.Terminated
		d.write(2, "%s:\tTerminated\n", title)
		if t.Reason != "" {
			d.write(3, "Reason:\t%s\n", t.Reason)
		}
		if t.Message != "" {
			d.write(3, "Message:\t%s\n", t.Message)
		}
		d.write(3, "Exit Code:\t%d\n", t.ExitCode)
		if t.Signal > 0 {
			d.write(3, "Signal:\t%d\n", t.Signal)
		}
		d.write(3, "Started:\t%s\n", formatTime(t.StartedAt.Time))
		d.write(3, "Finished:\t%s\n", formatTime(t.FinishedAt.Time))
	default:
		d.write(2, "%s:\tWaiting\n", title)
	}
}

func printBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// envFrom is kubectl's describeContainerEnvFrom.
func (d *describer) envFrom(sources []corev1.EnvFromSource) {
	d.write(2, "Environment Variables from:\n")
	for _, e := range sources {
		var from, name string
		var optional *bool
		switch {
		case e.ConfigMapRef != nil:
			from, name, optional = "ConfigMap", e.ConfigMapRef.Name, e.ConfigMapRef.Optional
		case e.SecretRef != nil:
			from, name, optional = "Secret", e.SecretRef.Name, e.SecretRef.Optional
		}
		if e.Prefix == "" {
			d.write(3, "%s\t%s\tOptional: %t\n", name, from, deref(optional))
		} else {
			d.write(3, "%s\t%s with prefix '%s'\tOptional: %t\n", name, from, e.Prefix, deref(optional))
		}
	}
}

// env is kubectl's describeContainerEnvVars. Like kubectl, it resolves
// only the field references its client-side scheme can convert
// (metadata.name and metadata.namespace) and shows the others empty.
func (d *describer) env(c *corev1.Container, pod *corev1.Pod) {
	if len(c.Env) == 0 {
		d.write(2, "Environment:\t<none>\n")
		return
	}
	d.write(2, "Environment:\n")
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			for i, line := range strings.Split(e.Value, "\n") {
				if i == 0 {
					d.write(3, "%s:\t%s\n", e.Name, line)
				} else {
					d.write(3, "\t%s\n", line)
				}
			}
			continue
		}
		switch from := e.ValueFrom; {
		case from.FieldRef != nil:
			var v string
			switch from.FieldRef.FieldPath {
			case "metadata.name":
				v = pod.Name
			case "metadata.namespace":
				v = pod.Namespace
			}
			d.write(3, "%s:\t%s (%s:%s)\n", e.Name, v, from.FieldRef.APIVersion, from.FieldRef.FieldPath)
		case from.ResourceFieldRef != nil:
			res := from.ResourceFieldRef.Resource
			v, _ := resourceFieldValue(from.ResourceFieldRef, c)
			if v == "0" && (res == "limits.cpu" || res == "limits.memory") {
				v = "node allocatable"
			}
			d.write(3, "%s:\t%s (%s)\n", e.Name, v, res)
		case from.SecretKeyRef != nil:
			ref := from.SecretKeyRef
			d.write(3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %t\n", e.Name, ref.Key, ref.Name, deref(ref.Optional))
		case from.ConfigMapKeyRef != nil:
			ref := from.ConfigMapKeyRef
			d.write(3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %t\n", e.Name, ref.Key, ref.Name, deref(ref.Optional))
		}
	}
}

// mounts is kubectl's describeContainerVolumes, sorted by mount path (on a
// copy: kubectl sorts the pod's own slice).
func (d *describer) mounts(c *corev1.Container) {
	if len(c.VolumeMounts) == 0 {
		d.write(2, "Mounts:\t<none>\n")
	} else {
		d.write(2, "Mounts:\n")
	}
	mounts := slices.Clone(c.VolumeMounts)
	slices.SortStableFunc(mounts, func(a, b corev1.VolumeMount) int { return cmp.Compare(a.MountPath, b.MountPath) })
	for _, m := range mounts {
		flags := "rw"
		if m.ReadOnly {
			flags = "ro"
		}
		if m.SubPath != "" {
			flags += fmt.Sprintf(",path=%q", m.SubPath)
		}
		d.write(3, "%s from %s (%s)\n", m.MountPath, m.Name, flags)
	}
	if len(c.VolumeDevices) > 0 {
		// kubectl reuses the Mounts suffix here: "\t<none>" when there
		// are no mounts.
		if len(c.VolumeMounts) == 0 {
			d.write(2, "Devices:\t<none>\n")
		} else {
			d.write(2, "Devices:\n")
		}
		devices := slices.Clone(c.VolumeDevices)
		slices.SortStableFunc(devices, func(a, b corev1.VolumeDevice) int { return cmp.Compare(a.DevicePath, b.DevicePath) })
		for _, dev := range devices {
			d.write(3, "%s from %s\n", dev.DevicePath, dev.Name)
		}
	}
}

// volumes is kubectl's describeVolumes for the volume sources a pod on one
// host can have (and NFS); under the name of the others (cloud disks,
// iSCSI, CSI, ephemeral claims, …) it prints "<unknown>", which kubectl
// does only for sources it does not know.
func (d *describer) volumes(volumes []corev1.Volume) {
	if len(volumes) == 0 {
		d.write(0, "Volumes:\t<none>\n")
		return
	}
	d.write(0, "Volumes:\n")
	for _, v := range volumes {
		d.write(1, "%v:\n", v.Name)
		src := &v.VolumeSource
		switch {
		case src.HostPath != nil:
			t := none
			if src.HostPath.Type != nil {
				t = string(*src.HostPath.Type)
			}
			d.volumeFields("HostPath (bare host directory volume)", "Path", src.HostPath.Path, "HostPathType", t)
		case src.EmptyDir != nil:
			limit := "<unset>"
			if l := src.EmptyDir.SizeLimit; l != nil && l.Sign() > 0 {
				limit = l.String()
			}
			d.volumeFields("EmptyDir (a temporary directory that shares a pod's lifetime)",
				"Medium", string(src.EmptyDir.Medium), "SizeLimit", limit)
		case src.Secret != nil:
			d.volumeFields("Secret (a volume populated by a Secret)",
				"SecretName", src.Secret.SecretName, "Optional", deref(src.Secret.Optional))
		case src.ConfigMap != nil:
			d.volumeFields("ConfigMap (a volume populated by a ConfigMap)",
				"Name", src.ConfigMap.Name, "Optional", deref(src.ConfigMap.Optional))
		case src.PersistentVolumeClaim != nil:
			d.volumeFields("PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)",
				"ClaimName", src.PersistentVolumeClaim.ClaimName, "ReadOnly", src.PersistentVolumeClaim.ReadOnly)
		case src.Image != nil:
			d.volumeFields("Image (a container image or OCI artifact)",
				"Reference", src.Image.Reference, "PullPolicy", src.Image.PullPolicy)
		case src.DownwardAPI != nil:
			d.write(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n")
			for _, item := range src.DownwardAPI.Items {
				if item.FieldRef != nil {
					d.write(3, "%v -> %v\n", item.FieldRef.FieldPath, item.Path)
				}
				if item.ResourceFieldRef != nil {
					d.write(3, "%v -> %v\n", item.ResourceFieldRef.Resource, item.Path)
				}
			}
		case src.NFS != nil:
			d.volumeFields("NFS (an NFS mount that lasts the lifetime of a pod)",
				"Server", src.NFS.Server, "Path", src.NFS.Path, "ReadOnly", src.NFS.ReadOnly)
		case src.Projected != nil:
			d.projected(src.Projected)
		default:
			d.write(1, "<unknown>\n")
		}
	}
}

// volumeFields writes a volume's type line and its fields, given as
// name, value pairs.
func (d *describer) volumeFields(typ string, fields ...any) {
	d.write(2, "Type:\t%s\n", typ)
	for i := 0; i+1 < len(fields); i += 2 {
		d.write(0, "    %s:\t%v\n", fields[i], fields[i+1])
	}
}

// projected is kubectl's printProjectedVolumeSource.
func (d *describer) projected(p *corev1.ProjectedVolumeSource) {
	d.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
	for _, s := range p.Sources {
		switch {
		case s.Secret != nil:
			d.write(2, "SecretName:\t%v\n    Optional:\t%v\n", s.Secret.Name, deref(s.Secret.Optional))
		case s.DownwardAPI != nil:
			d.write(2, "DownwardAPI:\ttrue\n")
		case s.ConfigMap != nil:
			d.write(2, "ConfigMapName:\t%v\n    Optional:\t%v\n", s.ConfigMap.Name, deref(s.ConfigMap.Optional))
		case s.ServiceAccountToken != nil:
			d.write(2, "TokenExpirationSeconds:\t%d\n", deref(s.ServiceAccountToken.ExpirationSeconds))
		}
	}
}
