package wisun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatewayd-project/gatewayd/han/echonet"
)

// readPoll bounds each port read so the reader notices ctx.
const readPoll = 50 * time.Millisecond

// maxSilent consecutive command timeouts mean the module is gone or wedged.
const maxSilent = 3

// pending is the one outstanding command.
type pending struct {
	verb   string
	wantLL bool // SKLL64 answers with a bare address, no OK
	lines  []string
	ev21   int
	done   chan result
}

type result struct {
	value string   // after "OK " (or the SKLL64 address)
	lines []string // other lines printed before the result
	ev21  int      // EVENT 21 parameter seen while pending; -1 none
	err   error
}

// command sends text (and raw, for SKSENDTO, in the same write) and waits
// for OK/FAIL. The error never contains the arguments.
func (m *Module) command(ctx context.Context, text string, raw []byte, timeout time.Duration, wantLL bool) (result, error) {
	verb, _, _ := strings.Cut(text, " ")
	select {
	case m.sem <- struct{}{}:
	case <-ctx.Done():
		return result{}, ctx.Err()
	case <-m.dead:
		return result{}, ErrStopped
	}
	defer func() { <-m.sem }()
	p := &pending{verb: verb, wantLL: wantLL, ev21: -1, done: make(chan result, 1)}
	m.mu.Lock()
	m.pending = p
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if m.pending == p {
			m.pending = nil
		}
		m.mu.Unlock()
	}()
	var b []byte
	switch {
	case raw != nil:
		b = append([]byte(text), raw...)
	case verb == "ROPT" || verb == "WOPT":
		b = []byte(text + "\r") // the BP35A1 manual wants CR only here
	default:
		b = []byte(text + "\r\n")
	}
	m.log.Debug("wisun command", "cmd", redact(text))
	if n, err := m.port.Write(b); err != nil || n != len(b) {
		if err == nil {
			err = fmt.Errorf("short write %d of %d", n, len(b))
		}
		return result{}, fmt.Errorf("wisun: %s: write: %w", verb, err)
	}
	t := m.clk.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-p.done:
		m.silent.Store(0)
		if r.err != nil {
			var ce *CommandError
			if errors.As(r.err, &ce) {
				ce.Command = verb
			}
			return r, r.err
		}
		return r, nil
	case <-t.C():
		if m.silent.Add(1) >= maxSilent {
			m.signalLost(fmt.Errorf("%w: no reply to %d commands", errUnresponsive, maxSilent))
		}
		return result{}, fmt.Errorf("wisun: %s: %w within %v", verb, ErrTimeout, timeout)
	case <-ctx.Done():
		return result{}, ctx.Err()
	case <-m.dead:
		return result{}, ErrStopped
	}
}

// redact hides secrets in a command for logging.
func redact(cmd string) string {
	switch verb, _, _ := strings.Cut(cmd, " "); verb {
	case "SKSETPWD":
		return "SKSETPWD ****"
	case "SKSETRBID":
		return "SKSETRBID ****"
	case "SKSENDTO":
		if i := strings.LastIndexByte(strings.TrimSpace(cmd), ' '); i > 0 {
			return cmd[:i] + " <data>"
		}
	}
	return cmd
}

// readLoop is the one goroutine that reads the port.
func (m *Module) readLoop(ctx context.Context, stop context.CancelFunc) {
	defer close(m.dead)
	defer close(m.packets)
	fail := func(err error) {
		m.mu.Lock()
		m.readErr = err
		m.mu.Unlock()
		stop()
	}
	if err := m.port.SetReadTimeout(readPoll); err != nil {
		fail(fmt.Errorf("wisun: set read timeout: %w", err))
		return
	}
	sc := newScanner(m.asciiRX.Load)
	buf := make([]byte, 512)
	for ctx.Err() == nil {
		n, err := m.port.Read(buf)
		if n > 0 {
			sc.feed(buf[:n], m.route)
		}
		if err != nil {
			if ctx.Err() == nil {
				fail(fmt.Errorf("wisun: read: %w", err))
			}
			return
		}
	}
}

func (m *Module) route(it item) {
	switch {
	case it.err != nil:
		m.badInput.Add(1)
		m.log.Debug("wisun input discarded", "err", it.err)
	case it.udp != nil:
		m.flushPAN()
		m.deliver(*it.udp, it.data)
	default:
		m.handleLine(it.line)
	}
}

func (m *Module) handleLine(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	m.mu.Lock()
	inPAN := m.panBlock != nil
	m.mu.Unlock()
	if inPAN && IsPANField(line) {
		m.mu.Lock()
		if len(m.panBlock) < 16 {
			m.panBlock = append(m.panBlock, line)
		}
		m.mu.Unlock()
		return
	}
	m.flushPAN()
	switch {
	case line == "EPANDESC":
		m.mu.Lock()
		m.panBlock = []string{}
		m.mu.Unlock()
	case strings.HasPrefix(line, "EVENT "):
		ev, err := ParseEvent(line)
		if err != nil {
			m.badInput.Add(1)
			return
		}
		m.onEvent(ev)
	case strings.HasPrefix(line, "ERXUDP "):
		// ASCII data arrives through the scanner; this is a datalen-0 line
		// without a trailing space.
		h, data, err := ParseERXUDPLine(line, "")
		if err != nil {
			m.badInput.Add(1)
			return
		}
		m.deliver(h, data)
	case isEcho(line):
		if m.echoOff.Load() {
			// Echo is back although we turned it off: the module restarted.
			m.echoOff.Store(false)
			m.signalLost(errors.New("module echoes again (reset)"))
		}
	case line == "OK" || strings.HasPrefix(line, "OK "):
		m.complete(result{value: strings.TrimSpace(strings.TrimPrefix(line, "OK"))})
	case strings.HasPrefix(line, "FAIL "):
		ce, err := ParseFail(line)
		if err != nil {
			m.badInput.Add(1)
			return
		}
		m.complete(result{err: ce})
	default:
		m.mu.Lock()
		p := m.pending
		if p != nil && p.wantLL && ValidIPv6(strings.TrimSpace(line)) {
			m.mu.Unlock()
			m.complete(result{value: strings.TrimSpace(line)})
			return
		}
		if p != nil && len(p.lines) < 8 {
			p.lines = append(p.lines, line)
		}
		m.mu.Unlock()
		if p == nil {
			m.badInput.Add(1)
		}
	}
}

func isEcho(line string) bool {
	return strings.HasPrefix(line, "SK") || line == "ROPT" || strings.HasPrefix(line, "WOPT ")
}

// complete hands r to the pending command.
func (m *Module) complete(r result) {
	m.mu.Lock()
	p := m.pending
	m.pending = nil
	m.mu.Unlock()
	if p == nil {
		m.badInput.Add(1) // a stray result (late answer to a timed-out command)
		return
	}
	r.lines, r.ev21 = p.lines, p.ev21
	p.done <- r
}

func (m *Module) flushPAN() {
	m.mu.Lock()
	block := m.panBlock
	m.panBlock = nil
	m.mu.Unlock()
	if block == nil {
		return
	}
	d, err := ParsePANDesc(block)
	if err != nil {
		m.badInput.Add(1)
		return
	}
	m.push(asyncMsg{pan: &d})
}

func (m *Module) onEvent(ev Event) {
	mine := ev.Side < 0 || ev.Side == m.side
	switch ev.Code {
	case EventUDPSent:
		m.mu.Lock()
		if p := m.pending; p != nil && p.verb == "SKSENDTO" {
			p.ev21 = ev.Param
		}
		m.mu.Unlock()
		return
	case EventTxLimit:
		m.mu.Lock()
		if !m.paused {
			m.paused = true
			m.resumeCh = make(chan struct{})
		}
		m.mu.Unlock()
		m.log.Warn("wisun transmit-time limit reached; sending suspended")
		return
	case EventTxResumed:
		m.mu.Lock()
		if m.paused {
			m.paused = false
			close(m.resumeCh)
		}
		m.mu.Unlock()
		return
	case EventJoinFailed, EventTermRequest, EventTerminated, EventTermTimeout:
		if mine {
			m.setNotJoined(fmt.Sprintf("EVENT %02X", ev.Code))
		}
	}
	if mine {
		m.push(asyncMsg{ev: ev})
	}
}

// push queues msg for the control loop, dropping the oldest when full.
func (m *Module) push(msg asyncMsg) {
	for range 2 {
		select {
		case m.async <- msg:
			return
		default:
		}
		select {
		case <-m.async:
			m.evDrop.Add(1)
		default:
		}
	}
	m.evDrop.Add(1)
}

// deliver passes an ECHONET datagram to Packets (PANA and other ports are
// ignored), dropping the oldest when the consumer is slow.
func (m *Module) deliver(h ERXUDP, data []byte) {
	if h.LPort != echonet.Port || (h.Side >= 0 && h.Side != m.side) {
		return
	}
	p := echonet.Packet{Src: echonet.Addr(h.Sender), Data: data}
	for range 2 {
		select {
		case m.packets <- p:
			return
		default:
		}
		select {
		case <-m.packets:
			m.pktDrop.Add(1)
		default:
		}
	}
	m.pktDrop.Add(1)
}
