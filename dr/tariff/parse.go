package tariff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits that keep Parse and the compiled tables small whatever the input.
const (
	MaxDocumentSize = 128 << 10 // bytes; a tariff with 512 commented zones fits
	MaxProblems     = 100       // reported by Parse; the rest are counted
	maxZones        = 256       // per zones or chargesZones list
	maxSteps        = 64        // tier steps
	maxParams       = 64        // dynamic.params entries
	maxBandRunes    = 32
)

// Parse decodes and validates a tariff document (see the package
// documentation for the schema). On any problem it returns a
// *[ValidationError] listing all of them. It never panics; it reads the
// time zone database (time.LoadLocation) and nothing else.
func Parse(text []byte) (*Tariff, error) {
	p := &parser{}
	if len(text) > MaxDocumentSize {
		p.add(0, "", CodeTooLarge, len(text), MaxDocumentSize)
		return nil, p.err()
	}
	root, ok := p.parseYAML(text)
	if !ok {
		return nil, p.err()
	}
	t := p.decodeRoot(root)
	if len(p.problems) > 0 {
		return nil, p.err()
	}
	t.compile()
	return t, nil
}

type parser struct {
	problems []Problem
}

func (p *parser) add(line int, key, code string, args ...any) {
	p.problems = append(p.problems, Problem{Key: key, Line: line, Code: code, Args: args})
}

// err sorts all problems (MaxDocumentSize bounds them to a few thousand)
// and keeps the first MaxProblems.
func (p *parser) err() error {
	slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
	if n := len(p.problems); n > MaxProblems {
		p.problems = append(p.problems[:MaxProblems:MaxProblems], Problem{Code: CodeMoreProblems, Args: []any{n - MaxProblems}})
	}
	return &ValidationError{Problems: p.problems}
}

// parseYAML returns the root node of the single document in text, nil for
// an empty document.
func (p *parser) parseYAML(text []byte) (root *yaml.Node, ok bool) {
	// yaml.v3 reports errors by panicking and recovering internally; a
	// panic that escapes it is a parser bug and must not crash the daemon.
	defer func() {
		if v := recover(); v != nil {
			p.add(0, "", CodeSyntax, fmt.Sprint(v))
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		p.syntax(err)
		return nil, false
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		if err != nil {
			p.syntax(err)
		} else {
			p.add(second.Line, "", CodeMultipleDocuments)
		}
		return nil, false
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], true
	}
	return nil, true
}

func (p *parser) syntax(err error) {
	// yaml.v3 formats them as "yaml: line 3: found character that cannot
	// start any token".
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, ok := strings.Cut(rest, ": ")
		if line, err := strconv.Atoi(num); ok && err == nil && line > 0 {
			p.add(line, "", CodeSyntax, text)
			return
		}
	}
	p.add(0, "", CodeSyntax, msg)
}

// section is a decoded mapping: its present (non-null) values by key.
type section struct {
	path string
	line int // line of the key that holds the mapping
	vals map[string]*yaml.Node
	keys map[string]int // line of each non-null key, including rejected aliases
}

func (s section) sub(name string) string {
	if s.path == "" {
		return name
	}
	return s.path + "." + name
}

func (s section) has(name string) bool { return s.vals[name] != nil }

// present reports a non-null key, even one rejected as an alias, so that
// it is not also reported missing.
func (s section) present(name string) bool { return s.keys[name] != 0 }

// mapping checks that n is a mapping with only the allowed keys. Null
// values count as absent, so "export:" alone means no export section.
func (p *parser) mapping(n *yaml.Node, path string, line int, allowed ...string) (section, bool) {
	s := section{path: path, line: line, vals: map[string]*yaml.Node{}, keys: map[string]int{}}
	if !p.plain(n, path) {
		return s, false
	}
	if n.Kind != yaml.MappingNode {
		p.wrongType(n, line, path, "mapping")
		return s, false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !p.plain(k, path) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.wrongType(k, k.Line, path, "scalar")
			continue
		}
		key := s.sub(k.Value)
		if first, dup := seen[k.Value]; dup {
			p.add(k.Line, key, CodeDuplicateKey, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if !slices.Contains(allowed, k.Value) {
			if n.Style&yaml.FlowStyle != 0 && isNull(v) && looksLikeListItem(k.Value) {
				p.add(k.Line, key, CodeUnquotedList, k.Value)
			} else {
				p.add(k.Line, key, CodeUnknownKey, k.Value, strings.Join(allowed, ", "))
			}
			continue
		}
		if isNull(v) {
			continue
		}
		s.keys[k.Value] = k.Line
		if p.plain(v, key) {
			s.vals[k.Value] = v
		}
	}
	return s, true
}

// plain rejects anchors and aliases, which would let one value hide in two
// places (and, expanded, blow up).
func (p *parser) plain(n *yaml.Node, path string) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		p.add(n.Line, path, CodeAlias)
		return false
	}
	return true
}

// wrongType reports that n is not a want; line is where to point (the
// key's line: a block collection starts on the next one).
func (p *parser) wrongType(n *yaml.Node, line int, path, want string) {
	switch n.Kind {
	case yaml.MappingNode:
		p.add(line, path, CodeWrongType, want, "mapping")
	case yaml.SequenceNode:
		p.add(line, path, CodeWrongType, want, "list")
	default:
		p.add(line, path, CodeWrongType, want, "scalar", n.Value)
	}
}

// required reports name missing from s.
func (p *parser) required(s section, names ...string) bool {
	ok := true
	for _, name := range names {
		if !s.present(name) {
			p.add(s.line, s.sub(name), CodeRequired)
			ok = false
		}
	}
	return ok
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0
}

// text returns the text of the scalar s[name]; ok is false if it is
// absent or not a scalar.
func (p *parser) text(s section, name string) (string, bool) {
	n := s.vals[name]
	if n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		p.wrongType(n, s.keys[name], s.sub(name), "scalar")
		return "", false
	}
	return n.Value, true
}

// textList accepts "a,b" or a YAML list [a, b] and returns "a,b".
func (p *parser) textList(s section, name string) (string, bool) {
	n := s.vals[name]
	if n == nil {
		return "", false
	}
	path := s.sub(name)
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, true
	case yaml.SequenceNode:
		items := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			if !p.plain(c, path) {
				return "", false
			}
			if c.Kind != yaml.ScalarNode || isNull(c) {
				p.wrongType(c, c.Line, fmt.Sprintf("%s[%d]", path, i), "scalar")
				return "", false
			}
			items = append(items, c.Value)
		}
		if len(items) == 0 {
			p.wrongType(n, s.keys[name], path, "textlist")
			return "", false
		}
		return strings.Join(items, ","), true
	}
	p.wrongType(n, s.keys[name], path, "textlist")
	return "", false
}

// number reads a finite number; min is 0 (negative numbers are reported)
// or math.Inf(-1).
func (p *parser) number(s section, name string, min float64) (float64, bool) {
	text, ok := p.text(s, name)
	if !ok {
		return 0, false
	}
	line, path := s.keys[name], s.sub(name)
	lower := strings.ToLower(strings.TrimLeft(strings.TrimSpace(text), "+-"))
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	switch {
	case lower == ".inf" || lower == ".nan" || math.IsInf(f, 0) || math.IsNaN(f):
		p.add(line, path, CodeNotFinite, text)
		return 0, false
	case err != nil:
		p.add(line, path, CodeNotNumber, text)
		return 0, false
	case f < min:
		p.add(line, path, CodeNegative, f)
		return 0, false
	}
	return f, true
}

// list returns the items of the sequence s[name], at most max.
func (p *parser) list(s section, name string, max int) ([]*yaml.Node, bool) {
	n := s.vals[name]
	if n == nil {
		return nil, false
	}
	path := s.sub(name)
	if n.Kind != yaml.SequenceNode {
		p.wrongType(n, s.keys[name], path, "list")
		return nil, false
	}
	if len(n.Content) > max {
		p.add(s.keys[name], path, CodeTooMany, len(n.Content), max)
		return nil, false
	}
	return n.Content, true
}

func (p *parser) child(s section, name string, allowed ...string) (section, bool) {
	n := s.vals[name]
	if n == nil {
		return section{}, false
	}
	return p.mapping(n, s.sub(name), s.keys[name], allowed...)
}
