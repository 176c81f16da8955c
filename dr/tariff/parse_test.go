package tariff

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
)

func mustParse(t testing.TB, doc string) *Tariff {
	t.Helper()
	tr, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return tr
}

// problems returns the problems of a failed Parse.
func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if len(ve.Problems) == 0 {
		t.Fatal("ValidationError without problems")
	}
	return ve.Problems
}

const head = "tariff:\n  timezone: Europe/Berlin\n  currency: EUR\n"

type want struct {
	line int
	key  string
	code string
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []want
	}{
		{"empty document", "", []want{{0, "tariff", CodeRequired}}},
		{"comment only", "# nothing\n", []want{{0, "tariff", CodeRequired}}},
		{"document is a list", "- a\n", []want{{1, "", CodeWrongType}}},
		{"unknown top-level key", "tarif:\n  x: 1\n", []want{{1, "tarif", CodeUnknownKey}, {1, "tariff", CodeRequired}}},
		{"missing required keys", "tariff:\n  fees: {daily: 1}\n", []want{
			{1, "tariff.timezone", CodeRequired}, {1, "tariff.currency", CodeRequired}, {1, "tariff.import", CodeRequired}}},
		{"typo in a key", "tariff:\n  timezon: Europe/Berlin\n  currency: EUR\n  import: {fixed: 0.3}\n", []want{
			{2, "tariff.timezon", CodeUnknownKey}, {1, "tariff.timezone", CodeRequired}}},
		{"section is a scalar", head + "  import: 0.3\n", []want{{4, "tariff.import", CodeWrongType}}},
		{"price is a list", head + "  import:\n    fixed: [1]\n", []want{{5, "tariff.import.fixed", CodeWrongType}}},
		{"bad timezone", "tariff:\n  timezone: Europe/Berln\n  currency: EUR\n  import: {fixed: 0.3}\n", []want{{2, "tariff.timezone", CodeBadTimezone}}},
		{"Local timezone", "tariff:\n  timezone: Local\n  currency: EUR\n  import: {fixed: 0.3}\n", []want{{2, "tariff.timezone", CodeBadTimezone}}},
		{"lower-case currency", "tariff:\n  timezone: UTC\n  currency: eur\n  import: {fixed: 0.3}\n", []want{{3, "tariff.currency", CodeBadCurrency}}},
		{"RMB currency", "tariff:\n  timezone: Asia/Shanghai\n  currency: RMB\n  import: {fixed: 0.5}\n", []want{{3, "tariff.currency", CodeBadCurrency}}},
		{"long currency", "tariff:\n  timezone: UTC\n  currency: EURO\n  import: {fixed: 0.3}\n", []want{{3, "tariff.currency", CodeBadCurrency}}},
		{"no base source", head + "  import:\n    tax: 0.19\n", []want{{4, "tariff.import", CodeMissingSource}}},
		{"two base sources", head + "  import:\n    fixed: 0.3\n    tou:\n      default: 0.3\n", []want{{6, "tariff.import", CodeMultipleSources}}},
		{"tou without default", head + "  import:\n    tou:\n      zones: []\n", []want{{5, "tariff.import.tou.default", CodeRequired}}},
		{"hours out of range", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - hours: \"25-26\"\n          price: 0.4\n",
			[]want{{8, "tariff.import.tou.zones[0].hours", CodeBadHours}}},
		{"hours without dash", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: \"8\", price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].hours", CodeBadHours}}},
		{"hours 24:30", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: \"22-24:30\", price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].hours", CodeBadHours}}},
		{"hours wrap midnight", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {price: 0.1}\n        - {hours: \"22-6\", price: 0.4}\n",
			[]want{{9, "tariff.import.tou.zones[1].hours", CodeHoursWrap}}},
		{"empty hour range", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: \"8-8\", price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].hours", CodeHoursWrap}}},
		{"unaligned minutes", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: \"8:10-9\", price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].hours", CodeHoursUnaligned}}},
		{"bad months", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {months: Foo-Bar, price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].months", CodeBadMonths}}},
		{"month 13", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {months: \"1-13\", price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].months", CodeBadMonths}}},
		{"bad days", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {days: Mon-Fry, price: 0.4}\n",
			[]want{{8, "tariff.import.tou.zones[0].days", CodeBadDays}}},
		{"unquoted days in flow mapping", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - { days: Sat,Sun, price: 0.4 }\n",
			[]want{{8, "tariff.import.tou.zones[0].Sun", CodeUnquotedList}}},
		{"zone without price", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - hours: \"8-9\"\n",
			[]want{{8, "tariff.import.tou.zones[0].price", CodeRequired}}},
		{"zone is a scalar", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - peak\n",
			[]want{{8, "tariff.import.tou.zones[0]", CodeWrongType}}},
		{"hours list with a mapping", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: [\"8-9\", {a: 1}], price: 1}\n",
			[]want{{8, "tariff.import.tou.zones[0].hours[1]", CodeWrongType}}},
		{"negative price", head + "  import:\n    fixed: -0.3\n", []want{{5, "tariff.import.fixed", CodeNegative}}},
		{"NaN price", head + "  import:\n    fixed: NaN\n", []want{{5, "tariff.import.fixed", CodeNotFinite}}},
		{".inf price", head + "  import:\n    fixed: .inf\n", []want{{5, "tariff.import.fixed", CodeNotFinite}}},
		{"huge price", head + "  import:\n    fixed: 1e400\n", []want{{5, "tariff.import.fixed", CodeNotFinite}}},
		{"text price", head + "  import:\n    fixed: cheap\n", []want{{5, "tariff.import.fixed", CodeNotNumber}}},
		{"negative zone price", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {price: -1}\n",
			[]want{{8, "tariff.import.tou.zones[0].price", CodeNegative}}},
		{"negative import charges", head + "  import:\n    fixed: 0.3\n    charges: -0.1\n", []want{{6, "tariff.import.charges", CodeNegative}}},
		{"tax as percent", head + "  import:\n    fixed: 0.3\n    tax: 19\n", []want{{6, "tariff.import.tax", CodeBadTax}}},
		{"negative tax", head + "  import:\n    fixed: 0.3\n    tax: -0.1\n", []want{{6, "tariff.import.tax", CodeBadTax}}},
		{"first step not at 0", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      steps:\n        - {startKWh: 10, adder: 0}\n",
			[]want{{9, "tariff.import.tiers.steps[0].startKWh", CodeFirstStep}}},
		{"steps not increasing", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      steps:\n        - {startKWh: 0, adder: 0}\n        - {startKWh: 400, adder: 0.3}\n        - {startKWh: 240, adder: 0.05}\n",
			[]want{{11, "tariff.import.tiers.steps[2].startKWh", CodeStepsOrder}}},
		{"steps equal", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      steps:\n        - {startKWh: 0, adder: 0}\n        - {startKWh: 0, adder: 0.3}\n",
			[]want{{10, "tariff.import.tiers.steps[1].startKWh", CodeStepsOrder}}},
		{"step without adder", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      steps:\n        - {startKWh: 0}\n",
			[]want{{9, "tariff.import.tiers.steps[0].adder", CodeRequired}}},
		{"no steps", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      steps: []\n",
			[]want{{8, "tariff.import.tiers.steps", CodeRequired}}},
		{"bad period", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: weekly\n      steps: [{startKWh: 0, adder: 0}]\n",
			[]want{{7, "tariff.import.tiers.period", CodeBadChoice}}},
		{"billing without anchor", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: billing\n      steps: [{startKWh: 0, adder: 0}]\n",
			[]want{{6, "tariff.import.tiers.anchor", CodeRequired}}},
		{"monthly anchor 31", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      anchor: 31\n      steps: [{startKWh: 0, adder: 0}]\n",
			[]want{{8, "tariff.import.tiers.anchor", CodeBadAnchor}}},
		{"annual anchor 29 February", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: annual\n      anchor: \"02-29\"\n      steps: [{startKWh: 0, adder: 0}]\n",
			[]want{{8, "tariff.import.tiers.anchor", CodeBadAnchor}}},
		{"annual anchor is a day", head + "  import:\n    fixed: 0.5\n    tiers:\n      period: annual\n      anchor: 1\n      steps: [{startKWh: 0, adder: 0}]\n",
			[]want{{8, "tariff.import.tiers.anchor", CodeBadAnchor}}},
		{"export tiers", head + "  import: {fixed: 0.3}\n  export:\n    fixed: 0.08\n    tiers: {period: monthly, steps: [{startKWh: 0, adder: 0}]}\n",
			[]want{{7, "tariff.export.tiers", CodeExportTiers}}},
		{"band too long", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {price: 0.4, band: " + strings.Repeat("x", 33) + "}\n",
			[]want{{8, "tariff.import.tou.zones[0].band", CodeBadBand}}},
		{"blank band", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {price: 0.4, band: \" \"}\n",
			[]want{{8, "tariff.import.tou.zones[0].band", CodeBadBand}}},
		{"unknown provider", head + "  import:\n    dynamic:\n      provider: tibber\n      fallback: {fixed: 0.3}\n",
			[]want{{6, "tariff.import.dynamic.provider", CodeBadChoice}}},
		{"dynamic without fallback", head + "  import:\n    dynamic:\n      provider: http\n",
			[]want{{5, "tariff.import.dynamic.fallback", CodeRequired}}},
		{"dynamic fallback", head + "  import:\n    dynamic:\n      provider: http\n      fallback:\n        dynamic: {provider: http}\n",
			[]want{{8, "tariff.import.dynamic.fallback.dynamic", CodeUnknownKey}, {7, "tariff.import.dynamic.fallback", CodeMissingSource}}},
		{"two fallbacks", head + "  import:\n    dynamic:\n      provider: openadr\n      fallback:\n        fixed: 0.3\n        tou: {default: 0.3}\n",
			[]want{{9, "tariff.import.dynamic.fallback", CodeMultipleSources}}},
		{"params value is a list", head + "  import:\n    dynamic:\n      provider: http\n      params: {url: [a]}\n      fallback: {fixed: 0.3}\n",
			[]want{{7, "tariff.import.dynamic.params.url", CodeWrongType}}},
		{"params is a list", head + "  import:\n    dynamic:\n      provider: http\n      params: [url]\n      fallback: {fixed: 0.3}\n",
			[]want{{7, "tariff.import.dynamic.params", CodeWrongType}}},
		{"duplicate param", head + "  import:\n    dynamic:\n      provider: http\n      params: {url: a, url: b}\n      fallback: {fixed: 0.3}\n",
			[]want{{7, "tariff.import.dynamic.params.url", CodeDuplicateKey}}},
		{"too many params", head + "  import:\n    dynamic:\n      provider: http\n      params: {" + manyParams(maxParams+1) + "}\n      fallback: {fixed: 0.3}\n",
			[]want{{7, "tariff.import.dynamic.params", CodeTooMany}}},
		{"empty hours list", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: [], price: 1}\n",
			[]want{{8, "tariff.import.tou.zones[0].hours", CodeWrongType}}},
		{"zones is a mapping", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        price: 1\n",
			[]want{{7, "tariff.import.tou.zones", CodeWrongType}}},
		{"negative daily fee", head + "  import: {fixed: 0.3}\n  fees:\n    daily: -1\n", []want{{6, "tariff.fees.daily", CodeNegative}}},
		{"demand without rate", head + "  import: {fixed: 0.3}\n  demand:\n    peak: 1\n", []want{
			{6, "tariff.demand.peak", CodeUnknownKey}, {5, "tariff.demand.monthlyPeakPerKW", CodeRequired}}},
		{"formula is not supported", head + "  import:\n    fixed: 0.3\n    formula: price * 2\n", []want{{6, "tariff.import.formula", CodeUnknownKey}}},
		{"duplicate key", head + "  import:\n    fixed: 0.3\n    fixed: 0.4\n", []want{{6, "tariff.import.fixed", CodeDuplicateKey}}},
		{"alias", head + "  import:\n    fixed: &p 0.3\n  export:\n    fixed: *p\n", []want{{5, "tariff.import.fixed", CodeAlias}, {7, "tariff.export.fixed", CodeAlias}}},
		{"syntax error", head + "  import:\n    fixed: [0.3\n", []want{{0, "", CodeSyntax}}},
		{"tab indentation", "tariff:\n\ttimezone: UTC\n", []want{{2, "", CodeSyntax}}},
		{"two documents", head + "  import: {fixed: 1}\n---\ntariff: {}\n", []want{{5, "", CodeMultipleDocuments}}},
		{"too large", head + strings.Repeat("#", MaxDocumentSize), []want{{0, "", CodeTooLarge}}},
		{"too many zones", head + "  import:\n    tou:\n      default: 0.3\n      zones:\n" + strings.Repeat("        - {price: 1}\n", maxZones+1),
			[]want{{7, "tariff.import.tou.zones", CodeTooMany}}},
		{"several problems at once", "tariff:\n  timezone: Mars/Olympus\n  currency: rmb\n  import:\n    fixed: 0.3\n    tou:\n      default: -1\n      zones:\n        - {hours: \"25-26\", days: Foo, price: 1}\n  export:\n    fixed: x\n", []want{
			{2, "tariff.timezone", CodeBadTimezone},
			{3, "tariff.currency", CodeBadCurrency},
			{6, "tariff.import", CodeMultipleSources},
			{7, "tariff.import.tou.default", CodeNegative},
			{9, "tariff.import.tou.zones[0].hours", CodeBadHours},
			{9, "tariff.import.tou.zones[0].days", CodeBadDays},
			{11, "tariff.export.fixed", CodeNotNumber},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", tr)
			}
			if tr != nil {
				t.Error("Parse returned a tariff with an error")
			}
			got := problems(t, err)
			for _, w := range tc.want {
				found := false
				for _, p := range got {
					if p.Key == w.key && p.Code == w.code && (p.Line == w.line || w.code == CodeSyntax && w.line == 0) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing problem line %d %s %s; got:\n%s", w.line, w.key, w.code, dump(got))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(got), len(tc.want), dump(got))
			}
			for i, p := range got {
				checkMessages(t, p)
				if i > 0 && p.Line < got[i-1].Line {
					t.Errorf("problems not ordered by line:\n%s", dump(got))
				}
			}
		})
	}
}

func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "p%d: %d, ", i, i)
	}
	return b.String()
}

func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  line %d %s %s %v: %s\n", p.Line, p.Key, p.Code, p.Args, p.Message("en"))
	}
	return b.String()
}

// checkMessages: both languages say something, differently, name the
// key, and the Chinese one is Chinese.
func checkMessages(t *testing.T, p Problem) {
	t.Helper()
	en, zh := p.Message("en"), p.Message("zh-CN")
	if en == "" || zh == "" || en == zh {
		t.Errorf("%s: messages en %q zh %q", p.Code, en, zh)
	}
	if !strings.HasPrefix(en, p.Key) || !strings.HasPrefix(zh, p.Key) {
		t.Errorf("%s: messages do not name the key %q: %q / %q", p.Code, p.Key, en, zh)
	}
	if !strings.ContainsFunc(zh, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		t.Errorf("%s: zh message has no Chinese: %q", p.Code, zh)
	}
	if strings.Contains(en, "%!") || strings.Contains(zh, "%!") || strings.Contains(en, "\"?\"") {
		t.Errorf("%s: bad formatting: %q / %q", p.Code, en, zh)
	}
}

func TestMessagesNameTheBadValue(t *testing.T) {
	tests := []struct {
		doc       string
		code      string
		mentioned []string // in both languages
	}{
		{head + "  import:\n    tou:\n      default: 0.3\n      zones:\n        - {hours: \"8-9,25-26\", price: 1}\n", CodeBadHours, []string{`"8-9,25-26"`, `"25-26"`, "tariff.import.tou.zones[0].hours"}},
		{"tariff:\n  timezone: UTC\n  currency: RMB\n  import: {fixed: 1}\n", CodeBadCurrency, []string{`"RMB"`, `"CNY"`}},
		{"tariff:\n  timezone: UTC\n  currency: eur\n  import: {fixed: 1}\n", CodeBadCurrency, []string{`"eur"`, `"EUR"`}},
		{head + "  import:\n    fixed: 0.3\n    tax: 19\n", CodeBadTax, []string{"19"}},
		{head + "  import:\n    fixed: 0.3\n    fixd: 1\n", CodeUnknownKey, []string{`"fixd"`, "fixed, tou, dynamic"}},
		{head + "  import:\n    fixed: 0.3\n    fixed: 1\n", CodeDuplicateKey, []string{`"fixed"`, "5"}},
		{head + "  import:\n    fixed: 0.5\n    tiers:\n      period: monthly\n      steps:\n        - {startKWh: 0, adder: 0}\n        - {startKWh: 400, adder: 0.3}\n        - {startKWh: 240, adder: 0.05}\n", CodeStepsOrder, []string{"240", "400"}},
		{head + "  import: [1]\n", CodeWrongType, nil},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.doc))
		ps := problems(t, err)
		if len(ps) != 1 || ps[0].Code != tc.code {
			t.Errorf("want one %s, got:\n%s", tc.code, dump(ps))
			continue
		}
		for _, lang := range []string{"en", "zh", "ZH-Hans", "zh_TW"} {
			msg := ps[0].Message(lang)
			for _, m := range tc.mentioned {
				if !strings.Contains(msg, m) {
					t.Errorf("%s message %q does not mention %s", lang, msg, m)
				}
			}
		}
		if ps[0].Message("") != ps[0].Message("en") || ps[0].Message("de") != ps[0].Message("en") {
			t.Error("languages other than zh must fall back to English")
		}
	}
}

func TestEveryCodeHasMessages(t *testing.T) {
	codes := []string{CodeSyntax, CodeTooLarge, CodeMultipleDocuments, CodeAlias, CodeWrongType, CodeUnknownKey,
		CodeUnquotedList, CodeDuplicateKey, CodeRequired, CodeNotNumber, CodeNotFinite, CodeNegative,
		CodeBadTax, CodeBadTimezone, CodeBadCurrency, CodeMissingSource, CodeMultipleSources, CodeBadMonths,
		CodeBadDays, CodeBadHours, CodeHoursWrap, CodeHoursUnaligned, CodeBadBand, CodeBadChoice, CodeBadAnchor,
		CodeFirstStep, CodeStepsOrder, CodeExportTiers, CodeTooMany, CodeMoreProblems}
	generic := Problem{Key: "k", Code: "no_such_code"}.Message("en")
	seen := map[string]string{}
	for _, c := range codes {
		p := Problem{Key: "k", Line: 1, Code: c, Args: []any{"a", "b", "c"}}
		checkMessages(t, p)
		if en := p.Message("en"); en == generic || seen[en] != "" {
			t.Errorf("%s: message %q not specific (same as %q)", c, en, seen[en])
		} else {
			seen[en] = c
		}
		// Missing arguments (a Problem from JSON) must not panic.
		_ = Problem{Code: c}.Message("zh")
	}
}

func TestProblemsAreCapped(t *testing.T) {
	_, err := Parse([]byte("tariff:\n" + strings.Repeat("  x: 1\n", 1000)))
	ps := problems(t, err)
	if len(ps) != MaxProblems+1 {
		t.Fatalf("%d problems, want %d", len(ps), MaxProblems+1)
	}
	last := ps[MaxProblems]
	// 999 duplicate keys, 1 unknown key, 3 required keys.
	if last.Code != CodeMoreProblems || last.Args[0] != 1003-MaxProblems || !strings.Contains(last.Message("en"), "903 more") {
		t.Errorf("last problem %+v: %s", last, last.Message("en"))
	}
	// Sorted by line before the cut: the three required keys (line 1)
	// come first although they are found last.
	if ps[0].Code != CodeRequired || ps[2].Line != 1 || ps[3].Line != 2 || ps[MaxProblems-1].Line != MaxProblems-2 {
		t.Errorf("not the first problems by line:\n%s", dump(ps[:4]))
	}
}

func TestValidationErrorString(t *testing.T) {
	_, err := Parse([]byte("tariff:\n  timezone: UTC\n  currency: EUR\n  import:\n    fixed: -1\n  colour: red\n"))
	want := "line 5: tariff.import.fixed: must not be negative, not -1\n" +
		"line 6: tariff.colour: unknown key \"colour\" (allowed: timezone, currency, import, export, fees, demand)"
	if err == nil || err.Error() != want {
		t.Errorf("Error() =\n%v\nwant\n%s", err, want)
	}
}

func TestParseValid(t *testing.T) {
	// Overlapping hours within a zone and overlapping zones are fine;
	// lists may be YAML lists; months and days may wrap; export charges
	// may be negative; 24 ends the day.
	doc := head + `  import:
    tou:
      default: 0.30
      zones:
        - hours: "8-12,10-14"
          price: 0.40
          band: 高峰
        - months: [Nov-Feb]
          days: [Fri-Mon, Wed]
          hours: ["0-6", "23-24"]
          price: 0.20
          band: winter night
        - { hours: "12-13", price: 0.35 }
  export:
    fixed: 0.08
    charges: -0.01
  fees: {daily: 0}
  demand: {monthlyPeakPerKW: 12.5}
  # a comment
`
	tr := mustParse(t, doc)
	if tr.Currency() != "EUR" || tr.Location().String() != "Europe/Berlin" || !tr.HasExport() {
		t.Errorf("accessors: %q %v %v", tr.Currency(), tr.Location(), tr.HasExport())
	}
	if got, want := fmt.Sprint(tr.Bands()), "[高峰 winter night default]"; got != want {
		t.Errorf("Bands() = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(tr.ExportBands()), "[fixed]"; got != want {
		t.Errorf("ExportBands() = %s, want %s", got, want)
	}
	if tr.Feed(false) != nil {
		t.Error("Feed of a tou side")
	}
	// Export credit 0.08 − 0.01 = 0.07.
	s, err := tr.Slots(local(tr, 2025, 1, 6, 12, 0), local(tr, 2025, 1, 6, 12, 15), nil)
	if err != nil || len(s) != 1 || !near(s[0].Export, 0.07) || !near(s[0].Import, 0.35) || s[0].Band != BandDefault {
		t.Errorf("slot: %+v %v", s, err)
	}
}

func TestFeed(t *testing.T) {
	tr := mustParse(t, head+"  import:\n    dynamic:\n      provider: openadr\n      params: {ven: house-1, program: \"42\"}\n      fallback: {fixed: 0.3}\n")
	f := tr.Feed(false)
	if f == nil || f.Provider != "openadr" || f.Params["ven"] != "house-1" || f.Params["program"] != "42" {
		t.Fatalf("Feed = %+v", f)
	}
	f.Params["ven"] = "changed"
	if tr.Feed(false).Params["ven"] != "house-1" {
		t.Error("Feed exposes the tariff's map")
	}
	if tr.Feed(true) != nil {
		t.Error("export Feed without export")
	}
}
