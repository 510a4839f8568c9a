package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// strictChecker walks a JSON tree against a Go type, the way encoding/json would decode
// it, and records every unknown field and every value of the wrong type with its full
// path. Unlike encoding/json it matches field names case-sensitively, as the API server
// does. Types with their own UnmarshalJSON (resource.Quantity, intstr.IntOrString,
// metav1.Time, ...) are leaves: the value is handed to their decoder.
type strictChecker struct {
	fields   map[reflect.Type]map[string]reflect.Type
	problems []error
}

var jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func checkStrict(v any, t reflect.Type, path *field.Path) []error {
	c := &strictChecker{fields: map[reflect.Type]map[string]reflect.Type{}}
	c.check(v, t, path)
	return c.problems
}

func (c *strictChecker) fail(path *field.Path, format string, args ...any) {
	c.problems = append(c.problems, pathError(path, fmt.Sprintf(format, args...)))
}

func (c *strictChecker) check(v any, t reflect.Type, path *field.Path) {
	if v == nil {
		return // null leaves the Go value as it is, for every type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		c.checkLeaf(v, t, path)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		c.checkStruct(v, t, path)
	case reflect.Map:
		o, ok := v.(*object)
		if !ok {
			c.wrongType(path, "an object", v)
			return
		}
		for _, k := range o.keys {
			c.check(o.values[k], t.Elem(), key(path, k))
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if _, ok := v.(string); !ok {
				c.wrongType(path, "a base64 string", v)
			}
			return
		}
		l, ok := v.([]any)
		if !ok {
			c.wrongType(path, "an array", v)
			return
		}
		for i, e := range l {
			c.check(e, t.Elem(), index(path, i))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			c.wrongType(path, "a string", v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			c.wrongType(path, "a boolean", v)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		c.checkNumber(v, t, path)
	case reflect.Interface:
		// anything goes
	default:
		c.fail(path, "cannot be decoded into %s", t)
	}
}

func (c *strictChecker) checkStruct(v any, t reflect.Type, path *field.Path) {
	o, ok := v.(*object)
	if !ok {
		c.wrongType(path, "an object", v)
		return
	}
	fields := c.structFields(t)
	for _, k := range o.keys {
		ft, ok := fields[k]
		if !ok {
			c.fail(child(path, k), "unknown field")
			continue
		}
		c.check(o.values[k], ft, child(path, k))
	}
}

func (c *strictChecker) checkNumber(v any, t reflect.Type, path *field.Path) {
	n, ok := v.(json.Number)
	var want string
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		want = "a number"
	default:
		want = fmt.Sprintf("an integer (%s)", t.Kind())
	}
	if !ok {
		c.wrongType(path, want, v)
		return
	}
	var err error
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(string(n), t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		_, err = strconv.ParseUint(string(n), 10, t.Bits())
	default:
		_, err = strconv.ParseInt(string(n), 10, t.Bits())
	}
	if err == nil {
		return
	}
	if errors.Is(err, strconv.ErrRange) {
		c.fail(path, "number %s does not fit in %s", n, t.Kind())
		return
	}
	c.wrongType(path, want, v)
}

// checkLeaf hands the value to the type's own JSON decoder.
func (c *strictChecker) checkLeaf(v any, t reflect.Type, path *field.Path) {
	data, err := json.Marshal(v)
	if err != nil {
		c.fail(path, "cannot encode value: %v", err)
		return
	}
	if err := json.Unmarshal(data, reflect.New(t).Interface()); err != nil {
		c.fail(path, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func (c *strictChecker) wrongType(path *field.Path, want string, got any) {
	c.fail(path, "expected %s, got %s", want, describe(got))
}

// describe names a JSON tree value for an error message.
func describe(v any) string {
	switch t := v.(type) {
	case *object:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "string " + strconv.Quote(t)
	case json.Number:
		return "number " + string(t)
	case bool:
		return "boolean " + strconv.FormatBool(t)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// structFields maps the JSON names of a struct's fields to their types, following
// encoding/json: exported fields only, the tag's name or else the field's name, "-"
// skipped, and untagged embedded structs inlined (shallower fields win).
func (c *strictChecker) structFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := c.fields[t]; ok {
		return f
	}
	fields := map[string]reflect.Type{}
	var inline []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				inline = append(inline, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = ft
	}
	for _, it := range inline {
		for name, ft := range c.structFields(it) {
			if _, taken := fields[name]; !taken {
				fields[name] = ft
			}
		}
	}
	c.fields[t] = fields
	return fields
}
