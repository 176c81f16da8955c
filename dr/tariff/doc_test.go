package tariff

import (
	goparser "go/parser"
	"go/token"
	"strings"
	"testing"
)

// docBlocks returns the YAML code blocks of the package documentation.
func docBlocks(t *testing.T) []string {
	t.Helper()
	f, err := goparser.ParseFile(token.NewFileSet(), "doc.go", nil, goparser.ParseComments|goparser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur []string
	flush := func() {
		if len(cur) > 0 && strings.HasPrefix(cur[0], "tariff:") {
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
		}
		cur = nil
	}
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		if code, ok := strings.CutPrefix(line, "\t"); ok {
			cur = append(cur, code)
		} else {
			flush()
		}
	}
	flush()
	return blocks
}

// The documented examples parse; the schema reference differs from a
// valid tariff only in listing all three base sources.
func TestDocExamples(t *testing.T) {
	blocks := docBlocks(t)
	if len(blocks) != 4 {
		t.Fatalf("found %d YAML blocks in doc.go, want 4 (schema and three examples)", len(blocks))
	}
	_, err := Parse([]byte(blocks[0]))
	if ps := problems(t, err); len(ps) != 1 || ps[0].Code != CodeMultipleSources || ps[0].Key != "tariff.import" {
		t.Errorf("schema block:\n%s", dump(ps))
	}
	for _, b := range blocks[1:] {
		mustParse(t, b)
	}
	if blocks[1] != cnTariff || blocks[2] != deTariff {
		t.Error("doc.go examples and the test tariffs cnTariff/deTariff differ")
	}
}
