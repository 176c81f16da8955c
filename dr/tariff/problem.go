package tariff

import (
	"fmt"
	"strconv"
	"strings"
)

// Problem codes: stable, for programs (the API, the UI's field
// highlighting). Humans read [Problem.Message].
const (
	CodeSyntax            = "syntax"             // Args: parser detail (English)
	CodeTooLarge          = "too_large"          // Args: size, max (bytes)
	CodeMultipleDocuments = "multiple_documents" // no Args
	CodeAlias             = "alias"              // no Args
	CodeWrongType         = "wrong_type"         // Args: want, got ("mapping", "list", "scalar", "textlist"), scalar text if got is "scalar"
	CodeUnknownKey        = "unknown_key"        // Args: name, allowed keys (comma-separated)
	CodeUnquotedList      = "unquoted_list"      // Args: name
	CodeDuplicateKey      = "duplicate_key"      // Args: name, line of the first
	CodeRequired          = "required"           // no Args
	CodeNotNumber         = "not_number"         // Args: text
	CodeNotFinite         = "not_finite"         // Args: text
	CodeNegative          = "negative"           // Args: value
	CodeBadTax            = "bad_tax"            // Args: value
	CodeBadTimezone       = "bad_timezone"       // Args: text
	CodeBadCurrency       = "bad_currency"       // Args: text, suggestion ("" if none)
	CodeMissingSource     = "missing_source"     // Args: allowed sources (comma-separated)
	CodeMultipleSources   = "multiple_sources"   // Args: sources found (comma-separated)
	CodeBadMonths         = "bad_months"         // Args: text, bad item
	CodeBadDays           = "bad_days"           // Args: text, bad item
	CodeBadHours          = "bad_hours"          // Args: text, bad item
	CodeHoursWrap         = "hours_wrap"         // Args: text, bad item
	CodeHoursUnaligned    = "hours_unaligned"    // Args: text, bad item
	CodeBadBand           = "bad_band"           // Args: text, max characters
	CodeBadChoice         = "bad_choice"         // Args: text, allowed values (comma-separated)
	CodeBadAnchor         = "bad_anchor"         // Args: text, period
	CodeFirstStep         = "first_step"         // Args: value
	CodeStepsOrder        = "steps_order"        // Args: value, previous value
	CodeExportTiers       = "export_tiers"       // no Args
	CodeTooMany           = "too_many"           // Args: count, max
	CodeMoreProblems      = "more_problems"      // Args: how many more were found; always last
)

// Problem is one thing wrong with a tariff document.
type Problem struct {
	// Key is the full path of the offending value, e.g.
	// "tariff.import.tou.zones[1].hours" (list indexes are 0-based); ""
	// for the document as a whole.
	Key string `json:"key"`
	// Line is the 1-based YAML line; 0 if unknown.
	Line int `json:"line"`
	// Code is one of the Code* constants.
	Code string `json:"code"`
	// Args are the values the message names (strings and numbers, so
	// they survive JSON); see the Code* constants for their order.
	Args []any `json:"args,omitempty"`
}

// ValidationError is every problem [Parse] found, ordered by line; past
// [MaxProblems] the list ends with one CodeMoreProblems entry.
type ValidationError struct {
	Problems []Problem `json:"problems"`
}

// Error is the English messages, one per line, each prefixed by its line
// number when known.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if p.Line > 0 {
			b.WriteString("line ")
			b.WriteString(strconv.Itoa(p.Line))
			b.WriteString(": ")
		}
		b.WriteString(p.Message("en"))
	}
	return b.String()
}

// Message is p for humans: the key, then what is wrong with which value.
// lang "zh", "zh-CN" or anything else starting with "zh" (any case) gives
// Simplified Chinese; everything else English. Keys, codes and the values
// quoted from the file stay as written.
func (p Problem) Message(lang string) string {
	zh := len(lang) >= 2 && strings.EqualFold(lang[:2], "zh")
	text := describe(p.Code, p.Args, zh)
	if p.Key == "" {
		return text
	}
	return p.Key + ": " + text
}

// describe formats one problem; it tolerates missing or odd Args, since a
// Problem may come back from JSON.
func describe(code string, args []any, zh bool) string {
	arg := func(i int) string {
		if i < len(args) {
			return fmt.Sprint(args[i])
		}
		return "?"
	}
	q := func(i int) string { return strconv.Quote(arg(i)) }
	pick := func(en, cn string) string {
		if zh {
			return cn
		}
		return en
	}
	switch code {
	case CodeSyntax:
		return pick("YAML syntax error: "+arg(0), "YAML 语法错误："+arg(0))
	case CodeTooLarge:
		return pick("the document has "+arg(0)+" bytes; at most "+arg(1)+" are accepted",
			"文档大小为 "+arg(0)+" 字节，最多接受 "+arg(1)+" 字节")
	case CodeMultipleDocuments:
		return pick("more than one YAML document; a tariff holds exactly one",
			"包含多个 YAML 文档；电价配置只能有一个文档")
	case CodeAlias:
		return pick("YAML anchors and aliases are not supported; write the value out",
			"不支持 YAML 锚点和别名，请直接写出取值")
	case CodeWrongType:
		got := typeName(arg(1), zh)
		if arg(1) == "scalar" {
			got = q(2)
		}
		return pick("must be "+typeName(arg(0), false)+", not "+got,
			"必须是"+typeName(arg(0), true)+"，而不是"+got)
	case CodeUnknownKey:
		return pick("unknown key "+q(0)+" (allowed: "+arg(1)+")",
			"未知的键 "+q(0)+"（允许的键："+arg(1)+"）")
	case CodeUnquotedList:
		return pick("unknown key "+q(0)+": inside { ... } a comma ends the value, so quote comma-separated lists, e.g. days: \"Sat,Sun\"",
			"未知的键 "+q(0)+"：在 { ... } 中逗号会结束取值，逗号分隔的列表请加引号，例如 days: \"Sat,Sun\"")
	case CodeDuplicateKey:
		return pick("duplicate key "+q(0)+" (first set on line "+arg(1)+")",
			"重复的键 "+q(0)+"（第 "+arg(1)+" 行已设置）")
	case CodeRequired:
		return pick("is required but missing", "缺少必填项")
	case CodeNotNumber:
		return pick(q(0)+" is not a number", q(0)+" 不是数字")
	case CodeNotFinite:
		return pick(q(0)+" is not a finite number", q(0)+" 不是有限的数值")
	case CodeNegative:
		return pick("must not be negative, not "+arg(0), "不能为负数，当前为 "+arg(0))
	case CodeBadTax:
		return pick("must be a fraction from 0 to 1 (0.19 for 19 %), not "+arg(0),
			"必须是 0 到 1 之间的小数（19% 写作 0.19），当前为 "+arg(0))
	case CodeBadTimezone:
		return pick(q(0)+" is not an IANA time zone name (e.g. Europe/Berlin, Asia/Shanghai)",
			q(0)+" 不是 IANA 时区名称（例如 Asia/Shanghai、Europe/Berlin）")
	case CodeBadCurrency:
		en := q(0) + " is not an ISO 4217 currency code (three capital letters, e.g. EUR, CNY)"
		cn := q(0) + " 不是 ISO 4217 货币代码（三个大写字母，例如 CNY、EUR）"
		if len(args) > 1 && arg(1) != "" {
			en += "; did you mean " + q(1) + "?"
			cn += "；是否应为 " + q(1) + "？"
		}
		return pick(en, cn)
	case CodeMissingSource:
		return pick("needs a price source, one of: "+arg(0), "需要一个价格来源，可选："+arg(0))
	case CodeMultipleSources:
		return pick("has several price sources ("+arg(0)+"); give exactly one",
			"同时设置了多个价格来源（"+arg(0)+"）；只能设置一个")
	case CodeBadMonths:
		return pick(q(0)+": "+q(1)+" is not a month or month range (e.g. Jan-Mar,Jun or 1-3,6)",
			q(0)+"："+q(1)+" 不是月份或月份范围（例如 Jan-Mar,Jun 或 1-3,6）")
	case CodeBadDays:
		return pick(q(0)+": "+q(1)+" is not a weekday or weekday range (e.g. Mon-Fri,Sun)",
			q(0)+"："+q(1)+" 不是星期或星期范围（例如 Mon-Fri,Sun）")
	case CodeBadHours:
		return pick(q(0)+": "+q(1)+" is not a time range \"HH[:MM]-HH[:MM]\" (hours 0 to 24, e.g. \"8-12,13:30-17\")",
			q(0)+"："+q(1)+" 不是 \"HH[:MM]-HH[:MM]\" 格式的时段（小时为 0 到 24，例如 \"8-12,13:30-17\"）")
	case CodeHoursWrap:
		return pick(q(0)+": "+q(1)+" does not end after it starts; ranges cannot wrap midnight, split it as e.g. \"22-0,0-6\"",
			q(0)+"：时段 "+q(1)+" 的结束不晚于开始；时段不能跨越午夜，请拆分，例如 \"22-0,0-6\"")
	case CodeHoursUnaligned:
		return pick(q(0)+": "+q(1)+" is not on a 15-minute boundary (minutes must be 00, 15, 30 or 45)",
			q(0)+"："+q(1)+" 不在 15 分钟边界上（分钟只能是 00、15、30 或 45）")
	case CodeBadBand:
		return pick("band name "+q(0)+" must be 1 to "+arg(1)+" printable characters",
			"时段名称 "+q(0)+" 必须是 1 到 "+arg(1)+" 个可打印字符")
	case CodeBadChoice:
		return pick(q(0)+" is not allowed here (one of: "+arg(1)+")", q(0)+" 不是允许的取值（可选："+arg(1)+"）")
	case CodeBadAnchor:
		if arg(1) == "annual" {
			return pick(q(0)+" is not a date \"MM-DD\" (e.g. \"01-01\"; 29 February is not allowed)",
				q(0)+" 不是 \"MM-DD\" 格式的日期（例如 \"01-01\"；不允许 2 月 29 日）")
		}
		return pick(q(0)+" is not a day of the month from 1 to 28", q(0)+" 不是 1 到 28 之间的日期")
	case CodeFirstStep:
		return pick("the first step must start at 0 kWh, not "+arg(0), "第一档必须从 0 kWh 开始，当前为 "+arg(0))
	case CodeStepsOrder:
		return pick("startKWh "+arg(0)+" must be greater than the previous step's "+arg(1),
			"startKWh "+arg(0)+" 必须大于上一档的 "+arg(1))
	case CodeExportTiers:
		return pick("tiers apply to import only", "阶梯电价只适用于购电（import）")
	case CodeMoreProblems:
		return pick("and "+arg(0)+" more problems", "另有 "+arg(0)+" 个问题未列出")
	case CodeTooMany:
		return pick("has "+arg(0)+" entries; at most "+arg(1)+" are allowed", "共有 "+arg(0)+" 项，最多允许 "+arg(1)+" 项")
	}
	return pick("problem "+strconv.Quote(code)+" "+fmt.Sprint(args), "问题 "+strconv.Quote(code)+" "+fmt.Sprint(args))
}

func typeName(token string, zh bool) string {
	names := map[string][2]string{
		"mapping":  {"a mapping (key: value)", "映射（键: 值）"},
		"list":     {"a list", "列表"},
		"scalar":   {"a single value", "单个取值"},
		"textlist": {"a text or a list of texts", "文本或文本列表"},
	}
	n, ok := names[token]
	if !ok {
		return strconv.Quote(token)
	}
	if zh {
		return n[1]
	}
	return n[0]
}
