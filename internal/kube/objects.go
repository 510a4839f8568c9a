package kube

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Objects are the ConfigMaps and Secrets of a pod's namespace that its volumes and
// environment may refer to, by name. A nil *Objects holds none.
type Objects struct {
	ConfigMaps map[string]*corev1.ConfigMap
	Secrets    map[string]*corev1.Secret
}

// NewObjects indexes ConfigMaps and Secrets by name, keeping those of namespace ns only.
// Secrets are normalized (see NormalizeSecret).
func NewObjects(ns string, cms []corev1.ConfigMap, secrets []corev1.Secret) *Objects {
	o := &Objects{ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{}}
	for i := range cms {
		if cms[i].Namespace == ns || cms[i].Namespace == "" {
			o.ConfigMaps[cms[i].Name] = &cms[i]
		}
	}
	for i := range secrets {
		if secrets[i].Namespace == ns || secrets[i].Namespace == "" {
			s := secrets[i]
			NormalizeSecret(&s)
			o.Secrets[s.Name] = &s
		}
	}
	return o
}

func (o *Objects) configMap(name string) *corev1.ConfigMap {
	if o == nil {
		return nil
	}
	return o.ConfigMaps[name]
}

func (o *Objects) secret(name string) *corev1.Secret {
	if o == nil {
		return nil
	}
	return o.Secrets[name]
}

// NormalizeSecret merges stringData into data, as the API server does on write
// (stringData wins), and clears stringData.
func NormalizeSecret(s *corev1.Secret) {
	if len(s.StringData) == 0 {
		return
	}
	data := make(map[string][]byte, len(s.Data)+len(s.StringData))
	maps.Copy(data, s.Data)
	for k, v := range s.StringData {
		data[k] = []byte(v)
	}
	s.Data, s.StringData = data, nil
}

// ValidateConfigMap checks a ConfigMap as the API server does: its metadata, and keys
// that are valid file names, each in data or binaryData, not both.
func ValidateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(&cm.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	for k := range cm.Data {
		errs = append(errs, validateDataKey(k, field.NewPath("data").Key(k))...)
	}
	for k := range cm.BinaryData {
		errs = append(errs, validateDataKey(k, field.NewPath("binaryData").Key(k))...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
	}
	return errs
}

// ValidateSecret checks a Secret as the API server does: its metadata and its keys.
func ValidateSecret(s *corev1.Secret) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(&s.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	for k := range s.Data {
		errs = append(errs, validateDataKey(k, field.NewPath("data").Key(k))...)
	}
	for k := range s.StringData {
		errs = append(errs, validateDataKey(k, field.NewPath("stringData").Key(k))...)
	}
	return errs
}

func validateDataKey(k string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(p, k, msg))
	}
	return errs
}
