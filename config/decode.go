package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parseYAML returns the root node of the single document in data, or nil
// for an empty document.
func parseYAML(file string, data []byte) (root *yaml.Node, err error) {
	// yaml.v3 reports errors by panicking internally and recovering; a
	// panic that escapes it is a parser bug, and config input must never
	// crash the daemon or `gatewayd config check`.
	defer func() {
		if v := recover(); v != nil {
			root, err = nil, &Error{File: file, Msg: fmt.Sprintf("invalid YAML: %v", v)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, data, err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(file, data, err)
		}
		return nil, &Error{File: file, Line: second.Line, Msg: "more than one YAML document"}
	}
	switch {
	case doc.Kind == 0, doc.Kind == yaml.DocumentNode && len(doc.Content) == 0:
		return nil, nil
	case doc.Kind == yaml.DocumentNode && len(doc.Content) == 1:
		return doc.Content[0], nil
	}
	return &doc, nil
}

func syntaxError(file string, data []byte, err error) *Error {
	// yaml.v3 formats them as "yaml: line 3: found character that cannot
	// start any token".
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, ok := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(num); ok && err == nil && line > 0 {
			if lineHasTab(data, line) {
				text += " (tabs are not allowed for indentation; use spaces)"
			}
			return &Error{File: file, Line: line, Msg: text}
		}
	}
	return &Error{File: file, Msg: msg}
}

// decoder walks a yaml.Node tree into Go values, collecting every problem
// and remembering the line of each key it set for later validation.
type decoder struct {
	file  string
	errs  []*Error
	lines map[string]int // dotted key -> line of its value
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) decodeRoot(n *yaml.Node, out any) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, "", "the document must be a mapping of keys to values, not %s", kindName(n))
		return
	}
	d.decode(n, reflect.ValueOf(out).Elem(), "")
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.fail(n, key, "YAML anchors and aliases are not supported")
		return
	}
	if isNull(n) {
		// null keeps the default, so "state_dir:" or an empty "http:"
		// section means "not set".
		return
	}
	if key != "" {
		d.lines[key] = n.Line
	}
	switch {
	case v.Type() == reflect.TypeOf(TLS{}):
		// A mode word, or a mapping of certificate files.
		if n.Kind == yaml.ScalarNode {
			v.Set(reflect.ValueOf(TLS{Mode: n.Value}))
			return
		}
		t := TLS{Mode: TLSFiles}
		d.decodeStruct(n, reflect.ValueOf(&t).Elem(), key)
		v.Set(reflect.ValueOf(t))
		return
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		if s, ok := d.scalar(n, key, "a duration"); ok {
			dur, err := parseDuration(s)
			if err != nil {
				d.fail(n, key, "%q is not a duration (use e.g. 500ms, 1s, 5m, 7d, 2y)", s)
				return
			}
			v.SetInt(int64(dur))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, key)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, key, "must be a list, not %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), key+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case reflect.String:
		if s, ok := d.scalar(n, key, "a string"); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, key, "a boolean"); ok {
			switch s {
			case "true", "True", "TRUE":
				v.SetBool(true)
			case "false", "False", "FALSE":
				v.SetBool(false)
			default:
				d.fail(n, key, "%q is not a boolean (use true or false)", s)
			}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if s, ok := d.scalar(n, key, "an integer"); ok {
			i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
			if err != nil || v.OverflowInt(i) {
				if err == nil || errors.Is(err, strconv.ErrRange) {
					d.fail(n, key, "%q is out of range", s)
				} else {
					d.fail(n, key, "%q is not an integer", s)
				}
				return
			}
			v.SetInt(i)
		}
	case reflect.Float32, reflect.Float64:
		if s, ok := d.scalar(n, key, "a number"); ok {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				d.fail(n, key, "%q is not a number", s)
				return
			}
			v.SetFloat(f)
		}
	default:
		// A programming error in the Config types, not in the file.
		d.fail(n, key, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "must be a mapping, not %s", kindName(n))
		return
	}
	fields := map[string]int{}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" && f.IsExported() {
			fields[name] = i
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind != yaml.ScalarNode {
			d.fail(kn, key, "keys must be plain names, not %s", kindName(kn))
			continue
		}
		sub := kn.Value
		if key != "" {
			sub = key + "." + kn.Value
		}
		if first, dup := seen[kn.Value]; dup {
			d.fail(kn, sub, "duplicate key (first set on line %d)", first)
			continue
		}
		seen[kn.Value] = kn.Line
		idx, ok := fields[kn.Value]
		if !ok {
			d.fail(kn, sub, "unknown key")
			continue
		}
		d.decode(vn, v.Field(idx), sub)
	}
}

// scalar returns the text of a scalar node, or records that n is not one.
func (d *decoder) scalar(n *yaml.Node, key, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "must be %s, not %s", want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	return "an unknown node"
}

// lineHasTab reports whether the 1-based line of data contains a tab.
func lineHasTab(data []byte, line int) bool {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return false
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return bytes.IndexByte(data, '\t') >= 0
}

// parseDuration is time.ParseDuration plus whole days ("7d" = 168h) and
// years ("2y" = 730d, 365-day years) for retention periods.
func parseDuration(s string) (time.Duration, error) {
	if len(s) > 1 && (s[len(s)-1] == 'd' || s[len(s)-1] == 'y') {
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
		if err != nil || n > 100*366 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		days := time.Duration(n)
		if s[len(s)-1] == 'y' {
			days *= 365
		}
		return days * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// ParseDuration parses a duration as the config does: Go syntax plus
// whole days ("7d") and 365-day years ("2y").
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }
