package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxManifestSize bounds what Decode reads from one input.
const MaxManifestSize = 64 << 20

// Manifest is what one input file holds: pods, and the ConfigMaps and Secrets their
// volumes and environment may refer to (as podman kube play takes them).
type Manifest struct {
	Pods       []*corev1.Pod
	ConfigMaps []*corev1.ConfigMap
	Secrets    []*corev1.Secret
}

var (
	podType       = reflect.TypeFor[corev1.Pod]()
	configMapType = reflect.TypeFor[corev1.ConfigMap]()
	secretType    = reflect.TypeFor[corev1.Secret]()
	listType      = reflect.TypeFor[corev1.List]()
)

// add files a decoded object under its kind.
func (m *Manifest) add(obj any) {
	switch o := obj.(type) {
	case *corev1.Pod:
		m.Pods = append(m.Pods, o)
	case *corev1.ConfigMap:
		m.ConfigMaps = append(m.ConfigMaps, o)
	case *corev1.Secret:
		m.Secrets = append(m.Secrets, o)
	}
}

// Decode reads every document of a multi-document YAML stream, or a stream of JSON
// values, strictly: a document holds one object (apiVersion v1, kind Pod, ConfigMap or
// Secret) or a v1 List (kind List or PodList) of them. Every problem of a document is reported at once with its
// field path (unknown fields, values of the wrong type, duplicate fields), each line
// prefixed by source and document number:
//
//	pod.yaml: document 2: spec.containers[0].imagePullPolcy: unknown field
//
// The error is a *DecodeError, or several joined with errors.Join when several documents
// are bad. A syntax error stops the reading and carries the parser's line number. Empty
// documents ("---" alone, comments only) are skipped; an input without any object is an
// error.
func Decode(r io.Reader, source string) (*Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", source, err)
	}
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("read manifest %s: larger than %d MiB", source, MaxManifestSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))

	docs, perr := parseDocuments(data)
	m := &Manifest{}
	var errs []error
	objects := 0
	for _, d := range docs {
		problems := d.problems
		if len(problems) == 0 && d.value != nil {
			var objs []any
			objs, problems = decodeDocument(d.value)
			for _, o := range objs {
				m.add(o)
			}
			objects++
		}
		if len(problems) > 0 {
			errs = append(errs, &DecodeError{Source: source, Document: d.index, Problems: problems})
		}
	}
	if perr != nil {
		errs = append(errs, &DecodeError{Source: source, Document: perr.index, Problems: []error{perr.err}})
	}
	switch {
	case len(errs) == 1:
		return nil, errs[0]
	case len(errs) > 1:
		return nil, errors.Join(errs...)
	case objects == 0:
		return nil, &DecodeError{Source: source, Problems: []error{errors.New("no objects found: the input is empty or holds only comments")}}
	case len(m.Pods)+len(m.ConfigMaps)+len(m.Secrets) == 0:
		return nil, &DecodeError{Source: source, Problems: []error{errors.New("no objects found: the list has no items")}}
	}
	return m, nil
}

// decodeDocument decodes one top-level object of a stream.
func decodeDocument(v any) ([]any, []error) {
	o, ok := v.(*object)
	if !ok {
		return nil, []error{fmt.Errorf("expected an object with apiVersion and kind, got %s", describe(v))}
	}
	apiVersion, kind, problems := typeMeta(o, nil, "")
	if len(problems) > 0 {
		return nil, problems
	}
	switch kind {
	case "List", "PodList":
		return decodeList(o, apiVersion, kind)
	default:
		obj, problems := decodeObject(o, apiVersion, kind, nil)
		if len(problems) > 0 {
			return nil, problems
		}
		return []any{obj}, nil
	}
}

// typeMeta reads apiVersion and kind. In a PodList, items may leave both out.
func typeMeta(o *object, path *field.Path, defaultKind string) (apiVersion, kind string, problems []error) {
	read := func(name string) string {
		v, ok := o.values[name]
		if !ok || v == nil || v == "" {
			if defaultKind != "" {
				return ""
			}
			problems = append(problems, pathError(path, name+" not set"))
			return ""
		}
		s, ok := v.(string)
		if !ok {
			problems = append(problems, pathError(child(path, name), "expected a string, got "+describe(v)))
		}
		return s
	}
	apiVersion, kind = read("apiVersion"), read("kind")
	if defaultKind != "" {
		if kind == "" {
			kind = defaultKind
		}
		if apiVersion == "" {
			apiVersion = "v1"
		}
	}
	return apiVersion, kind, problems
}

// decodeObject decodes one object that is not a list: a *corev1.Pod, *corev1.ConfigMap
// or *corev1.Secret.
func decodeObject(o *object, apiVersion, kind string, path *field.Path) (any, []error) {
	var obj any
	var t reflect.Type
	switch kind {
	case "Pod":
		obj, t = &corev1.Pod{}, podType
	case "ConfigMap":
		obj, t = &corev1.ConfigMap{}, configMapType
	case "Secret":
		obj, t = &corev1.Secret{}, secretType
	default:
		return nil, []error{pathError(path, fmt.Sprintf("kind %s is not supported: podbox runs kind: Pod (and ConfigMap, Secret)", kind))}
	}
	if apiVersion != "v1" {
		return nil, []error{pathError(child(path, "apiVersion"),
			fmt.Sprintf("%s is not valid for kind %s: use apiVersion: v1", strconv.Quote(apiVersion), kind))}
	}
	if problems := checkStrict(o, t, path); len(problems) > 0 {
		return nil, problems
	}
	if err := decodeJSON(o, obj); err != nil {
		return nil, []error{pathError(path, err.Error())}
	}
	return obj, nil
}

// decodeList decodes a v1 List or PodList and each of its items.
func decodeList(o *object, apiVersion, kind string) ([]any, []error) {
	if apiVersion != "v1" {
		return nil, []error{pathError(field.NewPath("apiVersion"),
			fmt.Sprintf("%s is not valid for kind %s: use apiVersion: v1", strconv.Quote(apiVersion), kind))}
	}
	// Check the list's own fields; items are checked one by one below.
	shell := newObject()
	for _, k := range o.keys {
		if k != "items" {
			shell.set(k, o.values[k])
		}
	}
	problems := checkStrict(shell, listType, nil)
	raw, _ := o.values["items"].([]any)
	if v, ok := o.values["items"]; ok && v != nil && raw == nil {
		problems = append(problems, pathError(field.NewPath("items"), "expected an array, got "+describe(v)))
	}
	defaultKind := ""
	if kind == "PodList" {
		defaultKind = "Pod"
	}
	var objs []any
	for i, item := range raw {
		path := field.NewPath("items").Index(i)
		itemObj, ok := item.(*object)
		if !ok {
			problems = append(problems, pathError(path, "expected an object with apiVersion and kind, got "+describe(item)))
			continue
		}
		itemVersion, itemKind, p := typeMeta(itemObj, path, defaultKind)
		if len(p) > 0 {
			problems = append(problems, p...)
			continue
		}
		if itemKind == "List" || itemKind == "PodList" {
			problems = append(problems, pathError(path, "a list may not hold another list"))
			continue
		}
		obj, p := decodeObject(itemObj, itemVersion, itemKind, path)
		problems = append(problems, p...)
		if obj != nil {
			objs = append(objs, obj)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return objs, nil
}

// decodeJSON decodes a checked tree into out.
func decodeJSON(v any, out any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode document: %w", err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode document: %w", err)
	}
	return nil
}
