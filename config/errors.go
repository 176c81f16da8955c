package config

import (
	"strconv"
	"strings"
)

// Error is one problem in a config file. Parse and Load return an *Error,
// or several joined with errors.Join; use errors.As to get the first.
type Error struct {
	File string // file name as given to Parse or Load; "" from Validate
	Line int    // 1-based line; 0 if unknown
	Key  string // dotted key, e.g. "metering.baud"; "" for the whole file
	Msg  string
}

// Error formats as "file:line: key: msg", leaving out unknown parts.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
