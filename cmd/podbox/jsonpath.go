package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonPath evaluates the subset of kubectl's -o jsonpath templates that
// covers everyday use: literal text and {.field.path} expressions with
// [n] and [*] indexes, e.g. '{.status.podIP}',
// '{.items[*].metadata.name}', '{.status.containerStatuses[0].state}'.
// Values print as kubectl prints them: strings bare, other values as
// JSON, several results separated by spaces.
func jsonPath(tmpl string, obj any) (string, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", err
	}
	var out strings.Builder
	for rest := tmpl; rest != ""; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			out.WriteString(unescape(rest))
			break
		}
		out.WriteString(unescape(rest[:open]))
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("jsonpath %q: unclosed {", tmpl)
		}
		expr := strings.TrimSpace(rest[open+1 : open+end])
		if strings.HasPrefix(expr, `"`) { // a quoted literal: {"\n"}
			lit, err := strconv.Unquote(expr)
			if err != nil {
				return "", fmt.Errorf("jsonpath %q: bad literal %s", tmpl, expr)
			}
			out.WriteString(lit)
			rest = rest[open+end+1:]
			continue
		}
		vals, err := evalPath(expr, doc)
		if err != nil {
			return "", fmt.Errorf("jsonpath %q: %w", tmpl, err)
		}
		for i, v := range vals {
			if i > 0 {
				out.WriteByte(' ')
			}
			out.WriteString(format(v))
		}
		rest = rest[open+end+1:]
	}
	return out.String(), nil
}

func unescape(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(s)
}

func format(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// evalPath walks a path like .a.b[0].c[*] from doc.
func evalPath(path string, doc any) ([]any, error) {
	if !strings.HasPrefix(path, ".") && !strings.HasPrefix(path, "$") {
		return nil, fmt.Errorf("%q: want a path starting with '.'", path)
	}
	path = strings.TrimPrefix(path, "$")
	cur := []any{doc}
	for path != "" {
		switch {
		case strings.HasPrefix(path, "."):
			path = path[1:]
			n := strings.IndexAny(path, ".[")
			if n < 0 {
				n = len(path)
			}
			key := path[:n]
			path = path[n:]
			if key == "" {
				continue
			}
			var next []any
			for _, c := range cur {
				if m, ok := c.(map[string]any); ok {
					if v, ok := m[key]; ok {
						next = append(next, v)
					}
				}
			}
			cur = next
		case strings.HasPrefix(path, "["):
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", path)
			}
			idx := path[1:end]
			path = path[end+1:]
			i, err := strconv.Atoi(idx)
			if err != nil && idx != "*" {
				return nil, fmt.Errorf("index %q: only [n] and [*] are supported", idx)
			}
			var next []any
			for _, c := range cur {
				list, ok := c.([]any)
				if !ok {
					continue
				}
				if idx == "*" {
					next = append(next, list...)
					continue
				}
				j := i
				if j < 0 {
					j += len(list)
				}
				if j >= 0 && j < len(list) {
					next = append(next, list[j])
				}
			}
			cur = next
		default:
			return nil, fmt.Errorf("unexpected %q", path)
		}
	}
	return cur, nil
}
