package wisun

import (
	"fmt"
	"strings"
)

// item is one unit read from the module: a text line, an ERXUDP datagram,
// or a discarded piece of input.
type item struct {
	line string  // a complete line without CR/LF (when udp == nil and err == nil)
	udp  *ERXUDP // a datagram header; data holds its payload
	data []byte
	err  error
}

// scanner splits the module's byte stream into items. It is length-aware
// for ERXUDP: once the datalen field has been read, exactly datalen bytes
// (binary mode) or 2×datalen hex characters (ASCII mode) are taken as data,
// so CR or LF inside binary data does not split the line. Every buffer is
// bounded by MaxLine and MaxData.
type scanner struct {
	// ascii selects how ERXUDP data is read; it is consulted when a header
	// completes.
	ascii func() bool

	buf        []byte
	spaces     int  // spaces in buf (to spot the ERXUDP datalen field)
	discarding bool // skipping to the end of an overlong or bad line
	skipEOL    bool // CR/LF after ERXUDP data
	need       int  // data bytes still to read
	asciiData  bool
	hdr        ERXUDP
	data       []byte
}

func newScanner(ascii func() bool) *scanner {
	return &scanner{ascii: ascii, buf: make([]byte, 0, 256)}
}

// feed consumes b and calls emit for every complete item.
func (s *scanner) feed(b []byte, emit func(item)) {
	for _, c := range b {
		s.feedByte(c, emit)
	}
}

func (s *scanner) feedByte(c byte, emit func(item)) {
	if s.need > 0 {
		if s.asciiData && !isHexDigit(c) {
			emit(item{err: fmt.Errorf("%w: erxudp data truncated (%d of %d hex chars)",
				ErrSyntax, len(s.data), 2*s.hdr.DataLen)})
			s.need = 0
			s.data = nil
			s.reset()
			// c starts whatever follows.
		} else {
			s.data = append(s.data, c)
			s.need--
			if s.need == 0 {
				s.finishData(emit)
			}
			return
		}
	}
	if s.skipEOL {
		if c == '\r' {
			return
		}
		s.skipEOL = false
		if c == '\n' {
			return
		}
	}
	switch {
	case c == '\n':
		if !s.discarding {
			emit(item{line: strings.TrimRight(string(s.buf), "\r")})
		}
		s.reset()
		return
	case s.discarding:
		return
	case len(s.buf) >= MaxLine:
		emit(item{err: fmt.Errorf("%w: line longer than %d bytes discarded", ErrSyntax, MaxLine)})
		s.reset()
		s.discarding = true
		return
	}
	s.buf = append(s.buf, c)
	if c != ' ' {
		return
	}
	s.spaces++
	if s.spaces < 8 || s.spaces > 9 || !strings.HasPrefix(string(s.buf[:7]), "ERXUDP ") {
		return
	}
	// The field just completed is the 7th or 8th after ERXUDP: the side
	// (one digit, BP35C0) or the 4-digit datalen.
	f := strings.Fields(string(s.buf))
	last := f[len(f)-1]
	if s.spaces == 8 && len(last) == 1 {
		return
	}
	h, err := ParseERXUDP(string(s.buf), "")
	if err != nil {
		emit(item{err: err})
		s.reset()
		s.discarding = true
		return
	}
	s.hdr = h
	s.asciiData = s.ascii != nil && s.ascii()
	s.need = h.DataLen
	if s.asciiData {
		s.need *= 2
	}
	s.data = make([]byte, 0, s.need)
	if s.need == 0 {
		s.finishData(emit)
	}
}

func (s *scanner) finishData(emit func(item)) {
	data, err := DecodeERXUDPData(s.hdr, s.data, s.asciiData)
	if err != nil {
		emit(item{err: err})
	} else {
		h := s.hdr
		emit(item{udp: &h, data: data})
	}
	s.data = nil
	s.reset()
	s.skipEOL = true
}

func (s *scanner) reset() {
	s.buf = s.buf[:0]
	s.spaces = 0
	s.discarding = false
}
