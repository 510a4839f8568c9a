package kube

import (
	"fmt"
	"os"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// SecretVolumeDefaultMode is the mode of a Secret volume's files when defaultMode is not
// set. The API server would default it to 0644; podbox keeps Secrets readable by their
// owner only (see SetDefaults, which leaves it unset).
const SecretVolumeDefaultMode = 0o400

// File is one file of a volume made from an object: its path relative to the volume,
// its content and its mode.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
}

// ConfigMapFiles are the files of a configMap volume, as the kubelet writes them: every
// key (data and binaryData), or only items, with defaultMode or the item's mode. A
// ConfigMap or item key that is missing is an error with the kubelet's text unless the
// volume is optional (an optional volume whose ConfigMap is missing is empty).
func ConfigMapFiles(src *corev1.ConfigMapVolumeSource, objs *Objects) ([]File, error) {
	cm := objs.configMap(src.Name)
	if cm == nil {
		if isTrue(src.Optional) {
			return nil, nil
		}
		return nil, fmt.Errorf("configmap %q not found", src.Name)
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	files, missing := keyFiles(data, src.Items, src.DefaultMode, 0o644, isTrue(src.Optional))
	if missing != "" {
		return nil, fmt.Errorf("configmap references non-existent config key: %s", missing)
	}
	return files, nil
}

// SecretFiles are the files of a secret volume (see ConfigMapFiles); the default mode is
// SecretVolumeDefaultMode.
func SecretFiles(src *corev1.SecretVolumeSource, objs *Objects) ([]File, error) {
	s := objs.secret(src.SecretName)
	if s == nil {
		if isTrue(src.Optional) {
			return nil, nil
		}
		return nil, fmt.Errorf("secret %q not found", src.SecretName)
	}
	files, missing := keyFiles(s.Data, src.Items, src.DefaultMode, SecretVolumeDefaultMode, isTrue(src.Optional))
	if missing != "" {
		return nil, fmt.Errorf("references non-existent secret key: %s", missing)
	}
	return files, nil
}

// keyFiles maps data to files: every key under its own name, or only items. It returns
// the first item key that is missing, unless optional.
func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defaultMode *int32, fallback os.FileMode, optional bool) ([]File, string) {
	mode := fallback
	if defaultMode != nil {
		mode = os.FileMode(*defaultMode)
	}
	var files []File
	if len(items) == 0 {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			files = append(files, File{Path: k, Data: data[k], Mode: mode})
		}
		return files, ""
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, it.Key
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		files = append(files, File{Path: it.Path, Data: v, Mode: m})
	}
	return files, ""
}

// DownwardAPIFiles are the files of a downwardAPI volume: each item's field (see
// FieldValue) or container resource (see ResourceValue).
func DownwardAPIFiles(pod *corev1.Pod, src *corev1.DownwardAPIVolumeSource, facts PodFacts) ([]File, error) {
	mode := os.FileMode(corev1.DownwardAPIVolumeSourceDefaultMode)
	if src.DefaultMode != nil {
		mode = os.FileMode(*src.DefaultMode)
	}
	var files []File
	for _, it := range src.Items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = FieldValue(pod, it.FieldRef.FieldPath, facts)
		case it.ResourceFieldRef != nil:
			v, err = ResourceValue(pod, nil, it.ResourceFieldRef, facts)
		default:
			err = fmt.Errorf("downwardAPI item %q: neither fieldRef nor resourceFieldRef", it.Path)
		}
		if err != nil {
			return nil, err
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode)
		}
		files = append(files, File{Path: it.Path, Data: []byte(v), Mode: m})
	}
	return files, nil
}
