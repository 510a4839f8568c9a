package kube

import (
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes checks spec.volumes: names, uniqueness and exactly one source each, with
// the source checks of the kinds podbox is likely to support first (emptyDir, hostPath,
// configMap, secret). It returns the valid volumes by name, for the mount checks.
func validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	vols := map[string]corev1.VolumeSource{}
	for i, v := range volumes {
		p := fldPath.Index(i)
		el := validateVolumeSource(&v.VolumeSource, p)
		if v.Name == "" {
			el = append(el, field.Required(p.Child("name"), ""))
		} else {
			el = append(el, dns1123Label(v.Name, p.Child("name"))...)
		}
		if _, dup := vols[v.Name]; dup {
			el = append(el, field.Duplicate(p.Child("name"), v.Name))
		}
		if len(el) == 0 {
			vols[v.Name] = v.VolumeSource
		}
		errs = append(errs, el...)
	}
	return vols, errs
}

// volumeSourceFields lists the JSON names of the VolumeSource fields, in field order.
func volumeSourceFields() []string {
	t := reflect.TypeFor[corev1.VolumeSource]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
	}
	return names
}

func validateVolumeSource(src *corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := reflect.ValueOf(src).Elem()
	n := 0
	for i, name := range volumeSourceFields() {
		if v.Field(i).IsNil() {
			continue
		}
		if n > 0 {
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 volume type"))
			continue
		}
		n++
	}
	if n == 0 {
		return append(errs, field.Required(p, "must specify a volume type"))
	}
	for i, name := range volumeSourceFields() {
		if !v.Field(i).IsNil() && !slices.Contains(supportedVolumeTypes, name) {
			errs = append(errs, field.Forbidden(p.Child(name), "volume type "+name+" is not supported by podbox (supported: "+strings.Join(supportedVolumeTypes, ", ")+")"))
		}
	}
	if s := src.EmptyDir; s != nil {
		if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
			errs = append(errs, field.Forbidden(p.Child("emptyDir").Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
		}
		switch s.Medium {
		case corev1.StorageMediumDefault, corev1.StorageMediumMemory:
		default:
			errs = append(errs, field.NotSupported(p.Child("emptyDir").Child("medium"), s.Medium,
				[]corev1.StorageMedium{corev1.StorageMediumDefault, corev1.StorageMediumMemory}))
		}
	}
	if s := src.HostPath; s != nil {
		if s.Path == "" {
			errs = append(errs, field.Required(p.Child("hostPath").Child("path"), ""))
		} else {
			errs = append(errs, noBacksteps(s.Path, p.Child("hostPath").Child("path"))...)
		}
		if s.Type != nil && !slices.Contains(hostPathTypes, *s.Type) {
			errs = append(errs, field.NotSupported(p.Child("hostPath").Child("type"), *s.Type, hostPathTypes))
		}
	}
	if s := src.DownwardAPI; s != nil {
		errs = append(errs, validateDownwardAPIVolume(s, p.Child("downwardAPI"))...)
	}
	if s := src.ConfigMap; s != nil {
		errs = append(errs, validateRefName(s.Name, p.Child("configMap").Child("name"))...)
		errs = append(errs, validateKeyToPaths(s.Items, s.DefaultMode, p.Child("configMap"))...)
	}
	if s := src.Secret; s != nil {
		errs = append(errs, validateRefName(s.SecretName, p.Child("secret").Child("secretName"))...)
		errs = append(errs, validateKeyToPaths(s.Items, s.DefaultMode, p.Child("secret"))...)
	}
	return errs
}

// supportedVolumeTypes are the volume sources podbox implements; every other one is
// refused by name.
var supportedVolumeTypes = []string{"configMap", "downwardAPI", "emptyDir", "hostPath", "secret"}

var hostPathTypes = []corev1.HostPathType{
	corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory, corev1.HostPathFileOrCreate,
	corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev,
}

// volumeFieldPaths are the pod fields a downwardAPI volume may name (besides subscripts
// of labels and annotations).
var volumeFieldPaths = []string{"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"}

var volumeResourceFields = []string{"limits.cpu", "limits.memory", "requests.cpu", "requests.memory"}

func validateDownwardAPIVolume(s *corev1.DownwardAPIVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m := s.DefaultMode; m != nil && (*m > 0o777 || *m < 0) {
		errs = append(errs, field.Invalid(p.Child("defaultMode"), *m, fileModeErrorMsg))
	}
	for i, it := range s.Items {
		ip := p.Child("items").Index(i)
		if it.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, localDescendingPath(it.Path, ip.Child("path"))...)
		}
		if it.Mode != nil && (*it.Mode > 0o777 || *it.Mode < 0) {
			errs = append(errs, field.Invalid(ip.Child("mode"), *it.Mode, fileModeErrorMsg))
		}
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(ip, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case it.FieldRef != nil:
			fp := it.FieldRef.FieldPath
			if name, _, ok := splitSubscript(fp); ok && (name == "metadata.labels" || name == "metadata.annotations") {
				errs = append(errs, validateFieldRef(it.FieldRef, ip.Child("fieldRef"))...)
			} else if !slices.Contains(volumeFieldPaths, fp) {
				errs = append(errs, field.NotSupported(ip.Child("fieldRef").Child("fieldPath"), fp, volumeFieldPaths))
			}
		case it.ResourceFieldRef != nil:
			r := it.ResourceFieldRef
			rp := ip.Child("resourceFieldRef")
			if r.ContainerName == "" {
				errs = append(errs, field.Required(rp.Child("containerName"), ""))
			}
			if !slices.Contains(volumeResourceFields, r.Resource) {
				errs = append(errs, field.NotSupported(rp.Child("resource"), r.Resource, volumeResourceFields))
			}
		default:
			errs = append(errs, field.Required(ip, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

const fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"

func validateKeyToPaths(items []corev1.KeyToPath, mode *int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if mode != nil && (*mode > 0777 || *mode < 0) {
		errs = append(errs, field.Invalid(p.Child("defaultMode"), *mode, fileModeErrorMsg))
	}
	for i, kp := range items {
		ip := p.Child("items").Index(i)
		if kp.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		if kp.Path == "" {
			errs = append(errs, field.Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, localDescendingPath(kp.Path, ip.Child("path"))...)
		}
		if kp.Mode != nil && (*kp.Mode > 0777 || *kp.Mode < 0) {
			errs = append(errs, field.Invalid(ip.Child("mode"), *kp.Mode, fileModeErrorMsg))
		}
	}
	return errs
}

// validateVolumeMounts checks a container's volumeMounts and volumeDevices against the
// pod's volumes.
func validateVolumeMounts(c *corev1.Container, vols map[string]corev1.VolumeSource, cPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		p := cPath.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		if _, ok := vols[m.Name]; !ok {
			errs = append(errs, field.NotFound(p.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(p.Child("mountPath"), ""))
		}
		if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(p.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if m.SubPath != "" {
			errs = append(errs, localDescendingPath(m.SubPath, p.Child("subPath"))...)
		}
		if m.MountPropagation != nil {
			errs = append(errs, validateMountPropagation(*m.MountPropagation, c, p.Child("mountPropagation"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				errs = append(errs, field.Invalid(p.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			errs = append(errs, localDescendingPath(m.SubPathExpr, p.Child("subPathExpr"))...)
		}
	}
	for i, d := range c.VolumeDevices {
		p := cPath.Child("volumeDevices").Index(i)
		if d.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		if _, ok := vols[d.Name]; !ok {
			errs = append(errs, field.NotFound(p.Child("name"), d.Name))
		}
		if d.DevicePath == "" {
			errs = append(errs, field.Required(p.Child("devicePath"), ""))
		}
	}
	return errs
}

var propagationModes = []corev1.MountPropagationMode{
	corev1.MountPropagationNone, corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional,
}

// validateMountPropagation: a known mode; Bidirectional only for privileged containers,
// as the API server requires.
func validateMountPropagation(mode corev1.MountPropagationMode, c *corev1.Container, p *field.Path) field.ErrorList {
	if !slices.Contains(propagationModes, mode) {
		return field.ErrorList{field.NotSupported(p, mode, propagationModes)}
	}
	privileged := c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
	if mode == corev1.MountPropagationBidirectional && !privileged {
		return field.ErrorList{field.Forbidden(p, "Bidirectional mount propagation is available only to privileged containers")}
	}
	return nil
}

// localDescendingPath: a relative path that does not climb out with "..".
func localDescendingPath(target string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(p, target, "must be a relative path"))
	}
	return append(errs, noBacksteps(target, p)...)
}

func noBacksteps(target string, p *field.Path) field.ErrorList {
	for _, part := range strings.Split(target, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, target, "must not contain '..'")}
		}
	}
	return nil
}
