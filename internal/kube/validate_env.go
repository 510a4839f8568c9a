package kube

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateEnv checks env[]. Names follow the relaxed rule the API server applies since
// RelaxedEnvironmentVariableValidation went GA (1.34): printable ASCII except "=".
func validateEnv(vars []corev1.EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range vars {
		p := path.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), ev.Name, msg))
			}
		}
		errs = append(errs, validateEnvValueFrom(ev, p.Child("valueFrom"))...)
	}
	return errs
}

// envFieldPaths are the pod fields env[].valueFrom.fieldRef may name.
var envFieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName",
	"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

// downwardAPIFieldLabels are the fields the v1 downward API knows at all.
var downwardAPIFieldLabels = []string{
	"metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName",
	"status.phase", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

var envResourceFields = []string{
	"limits.cpu", "limits.ephemeral-storage", "limits.memory",
	"requests.cpu", "requests.ephemeral-storage", "requests.memory",
}

func validateEnvValueFrom(ev corev1.EnvVar, path *field.Path) field.ErrorList {
	vf := ev.ValueFrom
	if vf == nil {
		return nil
	}
	var errs field.ErrorList
	n := 0
	if vf.FieldRef != nil {
		n++
		errs = append(errs, validateFieldRef(vf.FieldRef, path.Child("fieldRef"))...)
	}
	if r := vf.ResourceFieldRef; r != nil {
		n++
		p := path.Child("resourceFieldRef")
		switch {
		case r.Resource == "":
			errs = append(errs, field.Required(p.Child("resource"), ""))
		case !slices.Contains(envResourceFields, r.Resource) &&
			!strings.HasPrefix(r.Resource, "requests.hugepages-") && !strings.HasPrefix(r.Resource, "limits.hugepages-"):
			errs = append(errs, field.NotSupported(p.Child("resource"), r.Resource, envResourceFields))
		}
	}
	if r := vf.ConfigMapKeyRef; r != nil {
		n++
		errs = append(errs, validateKeySelector(r.Name, r.Key, path.Child("configMapKeyRef"))...)
	}
	if r := vf.SecretKeyRef; r != nil {
		n++
		errs = append(errs, validateKeySelector(r.Name, r.Key, path.Child("secretKeyRef"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case ev.Value != "":
		errs = append(errs, field.Invalid(path, "", "may not be specified when `value` is not empty"))
	case n > 1:
		errs = append(errs, field.Invalid(path, "", "may not have more than one field specified at a time"))
	}
	return errs
}

func validateFieldRef(fs *corev1.ObjectFieldSelector, path *field.Path) field.ErrorList {
	if fs.APIVersion == "" {
		return field.ErrorList{field.Required(path.Child("apiVersion"), "")}
	}
	if fs.FieldPath == "" {
		return field.ErrorList{field.Required(path.Child("fieldPath"), "")}
	}
	fp := path.Child("fieldPath")
	if fs.APIVersion != "v1" {
		return field.ErrorList{field.Invalid(fp, fs.FieldPath,
			fmt.Sprintf("error converting fieldPath: unsupported pod version: %s", fs.APIVersion))}
	}
	if name, sub, ok := splitSubscript(fs.FieldPath); ok {
		switch name {
		case "metadata.annotations":
			return qualifiedName(strings.ToLower(sub), path)
		case "metadata.labels":
			return qualifiedName(sub, path)
		default:
			return field.ErrorList{field.Invalid(fp, fs.FieldPath,
				fmt.Sprintf("error converting fieldPath: field label does not support subscript: %s", fs.FieldPath))}
		}
	}
	label := fs.FieldPath
	if label == "spec.host" { // old v1 clients
		label = "spec.nodeName"
	}
	if !slices.Contains(downwardAPIFieldLabels, label) {
		return field.ErrorList{field.Invalid(fp, fs.FieldPath,
			fmt.Sprintf("error converting fieldPath: field label not supported: %s", fs.FieldPath))}
	}
	if !slices.Contains(envFieldPaths, label) {
		return field.ErrorList{field.NotSupported(fp, label, slices.Sorted(slices.Values(envFieldPaths)))}
	}
	return nil
}

// splitSubscript splits "metadata.labels['app']" into "metadata.labels" and "app".
func splitSubscript(fieldPath string) (string, string, bool) {
	if !strings.HasSuffix(fieldPath, "']") {
		return "", "", false
	}
	name, sub, ok := strings.Cut(strings.TrimSuffix(fieldPath, "']"), "['")
	if !ok || name == "" {
		return "", "", false
	}
	return name, sub, true
}

func validateKeySelector(name, key string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(path.Child("name"), name, msg))
	}
	if key == "" {
		errs = append(errs, field.Required(path.Child("key"), ""))
	} else {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(path.Child("key"), key, msg))
		}
	}
	return errs
}

func validateEnvFrom(sources []corev1.EnvFromSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, src := range sources {
		p := path.Index(i)
		if src.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(src.Prefix) {
				errs = append(errs, field.Invalid(p.Child("prefix"), src.Prefix, msg))
			}
		}
		n := 0
		if src.ConfigMapRef != nil {
			n++
			errs = append(errs, validateRefName(src.ConfigMapRef.Name, p.Child("configMapRef").Child("name"))...)
		}
		if src.SecretRef != nil {
			n++
			errs = append(errs, validateRefName(src.SecretRef.Name, p.Child("secretRef").Child("name"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(path, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateRefName(name string, path *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSSubdomain(name, true) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}
