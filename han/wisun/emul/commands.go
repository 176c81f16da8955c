package emul

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// feed consumes one byte from the driver. Commands end with CR or LF (ROPT
// and WOPT come with CR only); SKSENDTO is followed by exactly datalen raw
// bytes after its header.
func (m *Module) feed(c byte) {
	if m.need > 0 {
		m.data = append(m.data, c)
		m.need--
		if m.need == 0 {
			m.sendto(m.hdr, m.data)
			m.hdr, m.data = nil, nil
		}
		return
	}
	if c == '\r' || c == '\n' {
		line := string(m.in)
		m.in = m.in[:0]
		if strings.TrimSpace(line) != "" {
			m.command(line)
		}
		return
	}
	if len(m.in) >= 4096 {
		m.in = m.in[:0]
		m.lines("FAIL ER09")
		return
	}
	m.in = append(m.in, c)
	if c != ' ' || !strings.HasPrefix(string(m.in), "SKSENDTO ") {
		return
	}
	f := strings.Fields(string(m.in))
	lenIdx := 5
	if m.cfg.Dialect == BP35C0 {
		lenIdx = 6
	}
	if len(f) != lenIdx+1 || len(f[lenIdx]) != 4 {
		return
	}
	n, err := strconv.ParseUint(f[lenIdx], 16, 16)
	if err != nil || n == 0 || n > 1232 {
		return // let the line end and fail
	}
	m.in = m.in[:0]
	if m.cfg.Dialect == BP35C0 && (f[5] == "0" || f[5] == "1") {
		m.st.side = f[5]
	}
	if m.st.echo {
		m.lines(strings.Join(f, " "))
	}
	m.hdr, m.need, m.data = f, int(n), make([]byte, 0, n)
}

func (m *Module) side() string {
	if m.cfg.Dialect == BP35C0 {
		return " " + cmp.Or(m.st.side, "0")
	}
	return ""
}

func (m *Module) event(code, addr, param string) string {
	s := "EVENT " + code + " " + addr + m.side()
	if param != "" {
		s += " " + param
	}
	return s
}

func (m *Module) coordLL() string {
	ll, _ := linkLocal(m.coord)
	return ll
}

func (m *Module) command(line string) {
	f := strings.Fields(line)
	if m.st.echo {
		m.lines(line)
	}
	args := f[1:]
	argc := func(n int) bool {
		if len(args) != n {
			m.lines("FAIL ER05")
			return false
		}
		return true
	}
	switch f[0] {
	case "SKRESET":
		m.count(func(s *Stats) { s.Resets++ })
		m.powerOn()
		m.lines("OK")
	case "SKVER":
		v := map[Dialect]string{BP35A1: "1.2.10", BP35C0: "1.0.1", RL7023: "1.2.8"}[m.cfg.Dialect]
		m.lines("EVER "+v, "OK")
	case "SKINFO":
		m.lines(fmt.Sprintf("EINFO %s %s %02X %04X FFFE", m.ownLL, m.cfg.MAC, m.st.s2, m.st.s3), "OK")
	case "SKSREG":
		m.sreg(args)
	case "ROPT":
		if m.cfg.Dialect == RL7023 {
			m.lines("FAIL ER04")
		} else if argc(0) {
			m.lines(fmt.Sprintf("OK %02X", m.wopt))
		}
	case "WOPT":
		switch {
		case m.cfg.Dialect == RL7023:
			m.lines("FAIL ER04")
		case !argc(1):
		case args[0] != "00" && args[0] != "01":
			m.lines("FAIL ER06")
		default:
			m.wopt = args[0][1] - '0'
			m.count(func(s *Stats) { s.FlashWrites++ })
			m.lines("OK")
		}
	case "SKSETPWD":
		if !argc(2) {
			return
		}
		n, err := strconv.ParseUint(args[0], 16, 8)
		if err != nil || n == 0 || n > 32 || int(n) != len(args[1]) {
			m.lines("FAIL ER06")
			return
		}
		m.st.pwd = args[1]
		m.lines("OK")
	case "SKSETRBID":
		if !argc(1) {
			return
		}
		if len(args[0]) != 32 {
			m.lines("FAIL ER06")
			return
		}
		m.st.rbid = args[0]
		m.lines("OK")
	case "SKSCAN":
		m.scan(args)
	case "SKLL64":
		if !argc(1) {
			return
		}
		ll, err := linkLocal(args[0])
		if err != nil {
			m.lines("FAIL ER06")
			return
		}
		m.lines(ll)
	case "SKJOIN":
		m.join(args)
	case "SKTERM":
		if !m.st.session {
			m.lines("FAIL ER10")
			return
		}
		m.st.session = false
		m.lines("OK")
		m.after(m.scale(200*time.Millisecond), func() { m.lines(m.event("27", m.coordLL(), "")) })
	default:
		m.lines("FAIL ER04") // includes SKSENDTO without valid data
	}
}

func (m *Module) sreg(args []string) {
	if len(args) < 1 || len(args) > 2 {
		m.lines("FAIL ER05")
		return
	}
	if len(args) == 1 {
		switch args[0] {
		case "S2":
			m.lines(fmt.Sprintf("ESREG %02X", m.st.s2), "OK")
		case "S3":
			m.lines(fmt.Sprintf("ESREG %04X", m.st.s3), "OK")
		case "SFE":
			m.lines(fmt.Sprintf("ESREG %d", map[bool]int{false: 0, true: 1}[m.st.echo]), "OK")
		default:
			m.lines("ESREG 00", "OK")
		}
		return
	}
	v, err := strconv.ParseUint(args[1], 16, 16)
	if err != nil {
		m.lines("FAIL ER06")
		return
	}
	switch args[0] {
	case "S2":
		if v < 33 || v > 60 {
			m.lines("FAIL ER06")
			return
		}
		m.st.s2 = int(v)
	case "S3":
		m.st.s3 = int(v)
	case "SFE":
		if v > 1 {
			m.lines("FAIL ER06")
			return
		}
		m.st.echo = v == 1
	}
	m.lines("OK")
}

// scan answers SKSCAN <mode> <mask> <duration> [side]: a beacon (EVENT 20 +
// EPANDESC) when the scan reaches the PAN's channel, EVENT 22 at the end.
func (m *Module) scan(args []string) {
	want := 3
	if m.cfg.Dialect == BP35C0 {
		want = 4
	}
	if len(args) != want {
		m.lines("FAIL ER05")
		return
	}
	mode, err1 := strconv.Atoi(args[0])
	mask, err2 := strconv.ParseUint(args[1], 16, 32)
	d, err3 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil || err3 != nil || mode < 0 || mode > 3 || d < 0 || d > 14 || len(args[1]) != 8 {
		m.lines("FAIL ER06")
		return
	}
	// The emulated PAN answers on either side of a BP35C0: it stands for
	// the utility's meter (side 0) and the home's HAN (side 1) alike.
	sideOK := true
	if want == 4 && args[3] != "0" && args[3] != "1" {
		m.lines("FAIL ER06")
		return
	}
	if want == 4 {
		m.st.side = args[3]
	}
	m.count(func(s *Stats) { s.Scans++ })
	m.lines("OK")
	perCh := m.scale(10 * time.Millisecond * time.Duration(1<<d+1))
	chans := bits.OnesCount32(uint32(mask) & 0x0FFFFFFF)
	bit := m.cfg.Channel - 33
	if sideOK && (mode == 2 || mode == 3) && d >= m.cfg.MinScanDuration && bit >= 0 && bit < 28 && mask&(1<<bit) != 0 {
		pos := bits.OnesCount32(uint32(mask) & (1<<(bit+1) - 1))
		m.after(time.Duration(pos)*perCh, func() {
			ls := []string{m.event("20", m.coordLL(), ""), "EPANDESC",
				fmt.Sprintf("  Channel:%02X", m.cfg.Channel), "  Channel Page:09",
				fmt.Sprintf("  Pan ID:%04X", m.cfg.PanID), "  Addr:" + m.coord, "  LQI:E1"}
			if m.cfg.Dialect == BP35C0 {
				ls = append(ls, "  Side:"+cmp.Or(m.st.side, "0"))
			}
			if id := m.creds(); mode == 2 && len(id) >= 8 {
				ls = append(ls, "  PairID:"+id[len(id)-8:])
			}
			m.lines(ls...)
		})
	}
	m.after(time.Duration(chans)*perCh, func() { m.lines(m.event("22", m.ownLL, "")) })
}

func (m *Module) creds() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}

// join answers SKJOIN: PANA chatter, then EVENT 25 or 24.
func (m *Module) join(args []string) {
	if len(args) != 1 {
		m.lines("FAIL ER05")
		return
	}
	if len(args[0]) != 39 {
		m.lines("FAIL ER06")
		return
	}
	if m.st.pwd == "" || m.st.rbid == "" {
		m.lines("FAIL ER10")
		return
	}
	m.count(func(s *Stats) { s.Joins++ })
	m.st.session = false
	m.lines("OK")
	target, pwd, rbid, s2, s3 := args[0], m.st.pwd, m.st.rbid, m.st.s2, m.st.s3
	coord := m.coordLL()
	m.after(m.scale(2500*time.Millisecond), func() {
		m.mu.Lock()
		ok := pwd == m.pw && rbid == m.id
		m.mu.Unlock()
		ok = ok && strings.EqualFold(target, coord) && s2 == m.cfg.Channel && s3 == m.cfg.PanID
		pana := m.erxudp(coord, m.ownLL, "02CC", []byte{0x00, 0x02, 0x00, 0x10})
		m.lines(m.event("21", coord, "00"), m.event("02", coord, ""))
		m.write(pana)
		if ok {
			m.st.session = true
			m.count(func(s *Stats) { s.JoinsOK++ })
			m.lines(m.event("25", coord, ""))
		} else {
			m.lines(m.event("24", coord, ""))
		}
	})
}

// sendto handles SKSENDTO <handle> <ip> <port> <sec> [side] <datalen> once
// its data has arrived.
func (m *Module) sendto(f []string, data []byte) {
	dst := f[2]
	if len(dst) != 39 || f[3] != "0E1A" {
		m.lines("FAIL ER06")
		return
	}
	if !m.st.session {
		m.lines("FAIL ER10")
		return
	}
	m.count(func(s *Stats) { s.Sends++ })
	m.lines(m.event("21", dst, "00"), "OK")
	if m.cfg.Network == nil || m.cfg.Faults.dropOn() {
		return
	}
	payload := append([]byte(nil), data...)
	for _, d := range m.cfg.Network.Deliver(strings.ToUpper(dst), m.ownLL, payload) {
		if len(d.Src) != 39 || len(d.Data) > 1232 {
			m.log.Warn("emul: network reply dropped", "src", d.Src, "len", len(d.Data))
			continue
		}
		b := m.erxudp(d.Src, m.ownLL, "0E1A", d.Data)
		m.after(m.scale(300*time.Millisecond), func() { m.write(b) })
	}
}

// erxudp formats a received datagram in the current WOPT mode.
func (m *Module) erxudp(src, dst, port string, data []byte) []byte {
	mac := strings.ToUpper(strings.ReplaceAll(src[20:], ":", ""))
	if b, err := hex.DecodeString(mac); err == nil && len(b) == 8 {
		b[0] ^= 0x02
		mac = strings.ToUpper(hex.EncodeToString(b))
	}
	h := fmt.Sprintf("ERXUDP %s %s %s %s %s 1%s %04X ", src, dst, port, port, mac, m.side(), len(data))
	out := []byte(h)
	if m.wopt == 1 {
		out = append(out, strings.ToUpper(hex.EncodeToString(data))...)
	} else {
		out = append(out, data...)
	}
	return append(out, '\r', '\n')
}

// linkLocal is the SKLL64 rule, kept independent of the driver's.
func linkLocal(mac string) (string, error) {
	b, err := hex.DecodeString(mac)
	if err != nil || len(b) != 8 {
		return "", fmt.Errorf("emul: MAC %q: want 16 hex digits", mac)
	}
	b[0] ^= 0x02
	s := strings.ToUpper(hex.EncodeToString(b))
	return "FE80:0000:0000:0000:" + s[0:4] + ":" + s[4:8] + ":" + s[8:12] + ":" + s[12:16], nil
}
