package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	yaml "go.yaml.in/yaml/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A manifest document is first read into a generic tree, the way JSON sees it:
// *object (keys in document order), []any, string, json.Number, bool and nil.
// The tree is checked field by field against the Go type (strict.go) and only then
// decoded into it.

// object is a JSON object that remembers the order of its keys, so problems are reported
// in document order.
type object struct {
	keys   []string
	values map[string]any
}

func newObject() *object { return &object{values: map[string]any{}} }

// set adds a key; it reports false when the key is already there.
func (o *object) set(k string, v any) bool {
	if _, dup := o.values[k]; dup {
		return false
	}
	o.keys = append(o.keys, k)
	o.values[k] = v
	return true
}

// MarshalJSON writes the object with its keys in document order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.values[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// document is one document of a stream; value nil means an empty document.
type document struct {
	index    int
	value    any
	problems []error
}

// parseError is a problem that stops reading the stream (a syntax error).
type parseError struct {
	index int
	err   error
}

// hasJSONPrefix reports whether data looks like JSON, as kubectl decides it.
func hasJSONPrefix(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
}

// parseDocuments splits a YAML or JSON stream into documents. Input that looks like JSON
// but is not (for example a YAML flow mapping) is read as YAML.
func parseDocuments(data []byte) ([]document, *parseError) {
	if !hasJSONPrefix(data) {
		return parseYAML(data)
	}
	docs, perr := parseJSON(data)
	if perr == nil {
		return docs, nil
	}
	if ydocs, yerr := parseYAML(data); yerr == nil {
		return ydocs, nil
	}
	return docs, perr
}

// parseJSON reads a stream of JSON values with the token API, which keeps key order and
// sees duplicate keys.
func parseJSON(data []byte) ([]document, *parseError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var docs []document
	for i := 1; dec.More(); i++ {
		r := jsonReader{dec: dec}
		v, err := r.value(nil)
		if err != nil {
			return docs, &parseError{i, jsonSyntaxError(data, dec, err)}
		}
		docs = append(docs, document{index: i, value: v, problems: r.problems})
	}
	// More reports false at the end and before a stray closing delimiter; tell them apart.
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		return docs, &parseError{len(docs) + 1, jsonSyntaxError(data, dec, err)}
	} else if err == nil {
		return docs, &parseError{len(docs) + 1, jsonSyntaxError(data, dec, errors.New("unexpected closing delimiter"))}
	}
	return docs, nil
}

// maxJSONDepth bounds nesting like encoding/json's scanner does.
const maxJSONDepth = 10000

type jsonReader struct {
	dec      *json.Decoder
	depth    int
	problems []error
}

func (r *jsonReader) value(path *field.Path) (any, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if r.depth++; r.depth > maxJSONDepth {
			return nil, fmt.Errorf("exceeded max depth of %d", maxJSONDepth)
		}
		defer func() { r.depth-- }()
		if t == '{' {
			return r.object(path)
		}
		if t == '[' {
			return r.array(path)
		}
		return nil, fmt.Errorf("unexpected %q", rune(t))
	default:
		return t, nil // string, json.Number, bool or nil
	}
}

func (r *jsonReader) object(path *field.Path) (any, error) {
	o := newObject()
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %v, not a string", tok)
		}
		v, err := r.value(child(path, k))
		if err != nil {
			return nil, err
		}
		if !o.set(k, v) {
			r.problems = append(r.problems, pathError(child(path, k), "duplicate field"))
		}
	}
	if _, err := r.dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	return o, nil
}

func (r *jsonReader) array(path *field.Path) (any, error) {
	l := []any{}
	for r.dec.More() {
		v, err := r.value(index(path, len(l)))
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	if _, err := r.dec.Token(); err != nil { // the closing ']'
		return nil, err
	}
	return l, nil
}

// jsonSyntaxError words a JSON reading error with the line it happened on.
func jsonSyntaxError(data []byte, dec *json.Decoder, err error) error {
	offset := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 {
		offset = se.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		offset = int64(len(data))
		err = errors.New("unexpected end of input")
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	return fmt.Errorf("invalid JSON: line %d: %w", line, err)
}

// yamlDoc decodes one YAML document, keeping the key order of a top-level mapping.
type yamlDoc struct{ v any }

func (d *yamlDoc) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil { // strict: reports duplicate keys with their line
		return err
	}
	if _, ok := v.(map[any]any); ok {
		var ms yaml.MapSlice // nested mappings decode as MapSlice too
		if err := unmarshal(&ms); err != nil {
			return err
		}
		v = ms
	}
	d.v = v
	return nil
}

// parseYAML reads a stream of YAML documents.
func parseYAML(data []byte) ([]document, *parseError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.SetStrict(true)
	var docs []document
	for i := 1; ; i++ {
		var d yamlDoc
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			doc := document{index: i}
			for _, msg := range te.Errors {
				doc.problems = append(doc.problems, fmt.Errorf("invalid YAML: %s", msg))
			}
			docs = append(docs, doc)
			continue
		}
		if err != nil {
			return docs, &parseError{i, yamlSyntaxError(err)}
		}
		doc := document{index: i}
		doc.value = fromYAML(d.v, nil, &doc.problems)
		docs = append(docs, doc)
	}
}

// yamlSyntaxError rewords "yaml: line 3: ..." as "invalid YAML: line 3: ...".
func yamlSyntaxError(err error) error {
	msg := err.Error()
	if len(msg) > 6 && msg[:6] == "yaml: " {
		msg = msg[6:]
	}
	return fmt.Errorf("invalid YAML: %s", msg)
}

// fromYAML converts a value decoded by yaml.v2 into the JSON tree.
func fromYAML(v any, path *field.Path, problems *[]error) any {
	switch t := v.(type) {
	case yaml.MapSlice:
		o := newObject()
		for _, item := range t {
			k := yamlKey(item.Key)
			if !o.set(k, fromYAML(item.Value, child(path, k), problems)) {
				*problems = append(*problems, pathError(child(path, k), "duplicate field"))
			}
		}
		return o
	case map[any]any:
		o := newObject()
		keys := make([]string, 0, len(t))
		byKey := make(map[string]any, len(t))
		for k, v := range t {
			ks := yamlKey(k)
			keys = append(keys, ks)
			byKey[ks] = v
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !o.set(k, fromYAML(byKey[k], child(path, k), problems)) {
				*problems = append(*problems, pathError(child(path, k), "duplicate field"))
			}
		}
		return o
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = fromYAML(e, index(path, i), problems)
		}
		return l
	case nil, string, bool:
		return t
	case int:
		return json.Number(strconv.Itoa(t))
	case int64:
		return json.Number(strconv.FormatInt(t, 10))
	case uint64:
		return json.Number(strconv.FormatUint(t, 10))
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			*problems = append(*problems, pathError(path, fmt.Sprintf("%v is not a valid JSON number", t)))
			return nil
		}
		return json.Number(strconv.FormatFloat(t, 'g', -1, 64))
	case time.Time:
		return t.Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(t)
	}
}

// yamlKey turns a YAML mapping key into a JSON object key, as sigs.k8s.io/yaml does.
func yamlKey(k any) string {
	switch t := k.(type) {
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case uint64:
		return strconv.FormatUint(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return "null"
	default:
		return fmt.Sprint(t)
	}
}

// child, index and key extend a possibly nil path.
func child(p *field.Path, name string) *field.Path {
	if p == nil {
		return field.NewPath(name)
	}
	return p.Child(name)
}

func index(p *field.Path, i int) *field.Path {
	if p == nil {
		return field.NewPath("").Index(i)
	}
	return p.Index(i)
}

func key(p *field.Path, k string) *field.Path {
	if p == nil {
		return field.NewPath("").Key(k)
	}
	return p.Key(k)
}

// pathError is a problem at a field path ("spec.containers[0].name: unknown field"), or a
// problem of the whole object when path is nil.
func pathError(path *field.Path, msg string) error {
	if path == nil {
		return errors.New(msg)
	}
	return errors.New(path.String() + ": " + msg)
}
