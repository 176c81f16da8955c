package tariff

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Choices accepted by the schema.
var (
	providers = []string{"http", "openadr"}
	periods   = []string{PeriodMonthly, PeriodAnnual, PeriodBilling}
)

// Tier accounting periods (tiers.period).
const (
	PeriodMonthly = "monthly" // calendar month starting on anchor day 1..28 (default 1)
	PeriodAnnual  = "annual"  // year starting on anchor "MM-DD" (default "01-01")
	PeriodBilling = "billing" // the utility's monthly billing cycle: anchor (meter-reading day) required
)

// currencyAliases are common non-ISO spellings, for a helpful message.
var currencyAliases = map[string]string{"RMB": "CNY", "NTD": "TWD", "YEN": "JPY", "EURO": "EUR", "€": "EUR", "¥": "CNY", "$": "USD", "£": "GBP"}

func (p *parser) decodeRoot(root *yaml.Node) *Tariff {
	t := &Tariff{}
	if root == nil {
		p.add(0, "tariff", CodeRequired)
		return t
	}
	top, ok := p.mapping(root, "", root.Line, "tariff")
	if !ok || !p.required(top, "tariff") {
		return t
	}
	s, ok := p.child(top, "tariff", "timezone", "currency", "import", "export", "fees", "demand")
	if !ok {
		return t
	}
	p.required(s, "timezone", "currency", "import")
	if name, ok := p.text(s, "timezone"); ok {
		t.loc = p.timezone(s, name)
	}
	if code, ok := p.text(s, "currency"); ok {
		t.currency = p.currency(s, code)
	}
	if s.has("import") {
		t.imp, t.tiers = p.decodeSide(s, "import", false)
	}
	if s.has("export") {
		t.exp, _ = p.decodeSide(s, "export", true)
	}
	if fees, ok := p.child(s, "fees", "daily"); ok && p.required(fees, "daily") {
		t.dailyFee, _ = p.number(fees, "daily", 0)
	}
	if d, ok := p.child(s, "demand", "monthlyPeakPerKW"); ok && p.required(d, "monthlyPeakPerKW") {
		t.demandRate, _ = p.number(d, "monthlyPeakPerKW", 0)
	}
	return t
}

func (p *parser) timezone(s section, name string) *time.Location {
	// "Local" would make the tariff depend on the gateway's TZ setting,
	// and "" silently means UTC.
	if name != "" && name != "Local" && len(name) <= 255 && !strings.ContainsAny(name, "\x00\\") {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	p.add(s.keys["timezone"], s.sub("timezone"), CodeBadTimezone, name)
	return nil
}

func (p *parser) currency(s section, code string) string {
	ok := len(code) == 3
	for i := range len(code) {
		ok = ok && code[i] >= 'A' && code[i] <= 'Z'
	}
	suggest, alias := currencyAliases[strings.ToUpper(code)]
	if ok && !alias {
		return code
	}
	if !alias && len(code) == 3 && strings.ToUpper(code) != code {
		suggest = strings.ToUpper(code)
		for i := range len(suggest) {
			if suggest[i] < 'A' || suggest[i] > 'Z' {
				suggest = ""
				break
			}
		}
	}
	p.add(s.keys["currency"], s.sub("currency"), CodeBadCurrency, code, suggest)
	return ""
}

// decodeSide decodes `import` or `export`; tiers are import-only.
func (p *parser) decodeSide(parent section, name string, export bool) (*side, *tiers) {
	s, ok := p.child(parent, name, "fixed", "tou", "dynamic", "tiers", "charges", "chargesZones", "tax")
	if !ok {
		return nil, nil
	}
	// Export charges may be negative: a fee deducted from the feed-in
	// credit (e.g. a direct-marketing fee).
	chargeMin := 0.0
	if export {
		chargeMin = math.Inf(-1)
	}
	sd := &side{src: p.decodeSource(s, true)}
	sd.charges, _ = p.number(s, "charges", chargeMin)
	if s.has("chargesZones") {
		sd.chargesZones = p.zones(s, "chargesZones", chargeMin)
	}
	if tax, ok := p.number(s, "tax", math.Inf(-1)); ok {
		if tax < 0 || tax > 1 {
			p.add(s.keys["tax"], s.sub("tax"), CodeBadTax, tax)
		}
		sd.tax = tax
	}
	var tr *tiers
	if s.has("tiers") {
		if export {
			p.add(s.keys["tiers"], s.sub("tiers"), CodeExportTiers)
		} else {
			tr = p.decodeTiers(s)
		}
	}
	return sd, tr
}

// decodeSource decodes the one base source of a side (fixed, tou or
// dynamic) or of a dynamic fallback (fixed or tou).
func (p *parser) decodeSource(s section, allowDynamic bool) source {
	names := []string{"fixed", "tou"}
	if allowDynamic {
		names = append(names, "dynamic")
	}
	var found []string
	for _, k := range names {
		if s.present(k) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		p.add(s.line, s.path, CodeMissingSource, strings.Join(names, ", "))
	case 1:
	default:
		p.add(s.keys[found[1]], s.path, CodeMultipleSources, strings.Join(found, ", "))
	}
	var src source
	if s.has("fixed") {
		v, _ := p.number(s, "fixed", 0)
		src = source{kind: srcFixed, price: v}
	}
	if tou, ok := p.child(s, "tou", "default", "zones"); ok {
		p.required(tou, "default")
		v, _ := p.number(tou, "default", 0)
		src = source{kind: srcTOU, price: v, zones: p.zones(tou, "zones", 0)}
	}
	if allowDynamic {
		if d, ok := p.child(s, "dynamic", "provider", "params", "fallback"); ok {
			src = p.decodeDynamic(d)
		}
	}
	return src
}

func (p *parser) decodeDynamic(d section) source {
	p.required(d, "provider", "fallback")
	feed := &Feed{Params: map[string]string{}}
	if prov, ok := p.text(d, "provider"); ok {
		if !slices.Contains(providers, prov) {
			p.add(d.keys["provider"], d.sub("provider"), CodeBadChoice, prov, strings.Join(providers, ", "))
		}
		feed.Provider = prov
	}
	if n := d.vals["params"]; n != nil {
		p.params(n, d.keys["params"], d.sub("params"), feed.Params)
	}
	src := source{kind: srcDynamic, feed: feed}
	if fb, ok := p.child(d, "fallback", "fixed", "tou"); ok {
		f := p.decodeSource(fb, false)
		src.fallback = &f
	}
	return src
}

// params decodes a free mapping of names to single values.
func (p *parser) params(n *yaml.Node, line int, path string, out map[string]string) {
	if n.Kind != yaml.MappingNode {
		p.wrongType(n, line, path, "mapping")
		return
	}
	if len(n.Content)/2 > maxParams {
		p.add(line, path, CodeTooMany, len(n.Content)/2, maxParams)
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !p.plain(k, path) || !p.plain(v, path) {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.wrongType(k, k.Line, path, "scalar")
			continue
		}
		key := path + "." + k.Value
		if line, dup := first[k.Value]; dup {
			p.add(k.Line, key, CodeDuplicateKey, k.Value, line)
			continue
		}
		first[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode {
			p.wrongType(v, k.Line, key, "scalar")
			continue
		}
		out[k.Value] = v.Value
	}
}

// zones decodes a zone list; min is the lowest allowed price.
func (p *parser) zones(s section, name string, min float64) []zone {
	items, ok := p.list(s, name, maxZones)
	if !ok {
		return nil
	}
	out := make([]zone, 0, len(items))
	for i, n := range items {
		path := s.sub(name) + "[" + strconv.Itoa(i) + "]"
		z, ok := p.mapping(n, path, n.Line, "months", "days", "hours", "price", "band")
		if !ok {
			continue
		}
		p.required(z, "price")
		zn := zone{months: allMonths, days: allDays, quarters: allQuarters}
		zn.price, _ = p.number(z, "price", min)
		if text, ok := p.textList(z, "months"); ok {
			mask, bad, ok := parseMonths(text)
			if !ok {
				p.add(z.keys["months"], z.sub("months"), CodeBadMonths, text, bad)
			}
			zn.months = mask
		}
		if text, ok := p.textList(z, "days"); ok {
			mask, bad, ok := parseDays(text)
			if !ok {
				p.add(z.keys["days"], z.sub("days"), CodeBadDays, text, bad)
			}
			zn.days = mask
		}
		if text, ok := p.textList(z, "hours"); ok {
			mask, code, bad := parseHours(text)
			if code != "" {
				p.add(z.keys["hours"], z.sub("hours"), code, text, bad)
			}
			zn.quarters = mask
		}
		if text, ok := p.text(z, "band"); ok {
			band, ok := cleanBand(text)
			if !ok {
				p.add(z.keys["band"], z.sub("band"), CodeBadBand, text, maxBandRunes)
			}
			zn.band = band
		}
		out = append(out, zn)
	}
	return out
}

// cleanBand trims a band name and checks it is 1..32 printable characters.
func cleanBand(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxBandRunes {
		return "", false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return "", false
		}
	}
	return s, true
}

func (p *parser) decodeTiers(parent section) *tiers {
	s, ok := p.child(parent, "tiers", "period", "anchor", "steps")
	if !ok {
		return nil
	}
	p.required(s, "period", "steps")
	tr := &tiers{anchorMonth: 1, anchorDay: 1}
	if period, ok := p.text(s, "period"); ok {
		if slices.Contains(periods, period) {
			tr.period = period
		} else {
			p.add(s.keys["period"], s.sub("period"), CodeBadChoice, period, strings.Join(periods, ", "))
		}
	}
	if tr.period == PeriodBilling {
		p.required(s, "anchor")
	}
	if anchor, ok := p.text(s, "anchor"); ok && tr.period != "" {
		if !tr.setAnchor(anchor) {
			p.add(s.keys["anchor"], s.sub("anchor"), CodeBadAnchor, anchor, tr.period)
		}
	}
	items, ok := p.list(s, "steps", maxSteps)
	if ok && len(items) == 0 {
		p.add(s.keys["steps"], s.sub("steps"), CodeRequired)
	}
	prev, havePrev := 0.0, false
	for i, n := range items {
		path := s.sub("steps") + "[" + strconv.Itoa(i) + "]"
		st, ok := p.mapping(n, path, n.Line, "startKWh", "adder")
		if !ok {
			havePrev = false
			continue
		}
		p.required(st, "startKWh", "adder")
		adder, _ := p.number(st, "adder", math.Inf(-1))
		start, ok := p.number(st, "startKWh", 0)
		switch {
		case !ok:
		case i == 0 && start != 0:
			p.add(st.keys["startKWh"], st.sub("startKWh"), CodeFirstStep, start)
		case i > 0 && havePrev && start <= prev:
			p.add(st.keys["startKWh"], st.sub("startKWh"), CodeStepsOrder, start, prev)
		}
		prev, havePrev = start, ok
		tr.steps = append(tr.steps, tierStep{startKWh: start, adder: adder})
	}
	return tr
}

// setAnchor parses the period's anchor: a day 1..28 for monthly and
// billing, "MM-DD" (not 29 February) for annual.
func (tr *tiers) setAnchor(s string) bool {
	num := func(x string) (int, bool) {
		n, err := strconv.Atoi(x)
		return n, err == nil && x != "" && x[0] >= '0' && x[0] <= '9'
	}
	s = strings.TrimSpace(s)
	if tr.period == PeriodAnnual {
		mm, dd, ok := strings.Cut(s, "-")
		m, ok1 := num(mm)
		d, ok2 := num(dd)
		if !ok || !ok1 || !ok2 || len(mm) != 2 || len(dd) != 2 || m < 1 || m > 12 || d < 1 {
			return false
		}
		if d > time.Date(2001, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			return false
		}
		tr.anchorMonth, tr.anchorDay = m, d
		return true
	}
	d, ok := num(s)
	if !ok || len(s) > 2 || d < 1 || d > 28 {
		return false
	}
	tr.anchorDay = d
	return true
}
