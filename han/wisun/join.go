package wisun

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

var (
	errJoinTimeout = errors.New("wisun: no EVENT 25/24 before the join timeout")
	errSessionLost = errors.New("wisun: session lost")
	// errUnresponsive: several commands in a row got no answer.
	errUnresponsive = errors.New("wisun: module unresponsive")
)

// control configures and joins, keeps the session, and re-joins (with
// backoff, rescanning when joins keep failing) until ctx is done.
func (m *Module) control(ctx context.Context) {
	var pan *PANDesc
	if m.cfg.Channel != 0 && m.cfg.PanID != 0 && m.cfg.CoordinatorMAC != "" {
		pan = &PANDesc{Channel: uint16(m.cfg.Channel), PanID: uint16(m.cfg.PanID),
			Addr: strings.ToUpper(m.cfg.CoordinatorMAC), Side: -1}
	}
	fixed := pan != nil
	failures, joinFailures := 0, 0
	reset := m.cfg.ResetOnStart
	for ctx.Err() == nil {
		start := m.clk.Now()
		err := m.bringUp(ctx, &pan, reset)
		reset = false
		if err == nil {
			m.log.Info("wisun joined", "peer", m.Peer(), "dialect", m.Dialect(),
				"after", m.clk.Now().Sub(start).Round(time.Millisecond))
			failures, joinFailures = 0, 0
			err = m.keep(ctx, pan)
			m.lostN.Add(1)
		}
		if ctx.Err() != nil {
			return
		}
		m.setNotJoined(err.Error())
		m.log.Warn("wisun not joined; retrying", "err", err)
		if errors.Is(err, ErrJoinFailed) || errors.Is(err, errJoinTimeout) {
			joinFailures++
			if joinFailures >= 2 && !fixed {
				pan = nil // the PAN may have moved: rescan
			}
		}
		if errors.Is(err, ErrTimeout) || errors.Is(err, errUnresponsive) {
			reset = true // a wedged module: start from SKRESET
		}
		failures++
		if errors.Is(err, errSessionLost) && failures == 1 {
			continue // re-join at once after a lost session
		}
		d := m.cfg.RetryBackoff << min(failures-1, 10)
		if d > m.cfg.MaxBackoff || d <= 0 {
			d = m.cfg.MaxBackoff
		}
		if m.sleep(ctx, d) != nil {
			return
		}
	}
}

func (m *Module) sleep(ctx context.Context, d time.Duration) error {
	t := m.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Module) cmd(ctx context.Context, text string) (result, error) {
	return m.command(ctx, text, nil, m.cfg.CommandTimeout, false)
}

// bringUp runs the configuration and join sequence.
func (m *Module) bringUp(ctx context.Context, pan **PANDesc, reset bool) error {
	m.drain()
	m.echoOff.Store(false)
	if reset {
		if _, err := m.cmd(ctx, "SKRESET"); err != nil {
			return err
		}
	}
	if _, err := m.cmd(ctx, "SKSREG SFE 0"); err != nil {
		return err
	}
	m.echoOff.Store(true)
	r, err := m.cmd(ctx, "SKVER")
	if err != nil {
		return err
	}
	for _, l := range r.lines {
		if v, ok := strings.CutPrefix(l, "EVER "); ok {
			m.log.Debug("wisun firmware", "version", v)
		}
	}
	if err := m.setRXMode(ctx); err != nil {
		return err
	}
	if _, err := m.cmd(ctx, fmt.Sprintf("SKSETPWD %X %s", len(m.cfg.Password), m.cfg.Password)); err != nil {
		return err
	}
	if _, err := m.cmd(ctx, "SKSETRBID "+m.cfg.ID); err != nil {
		return err
	}
	if *pan == nil || m.Dialect() == "" {
		durations := m.cfg.ScanDurations
		if *pan != nil {
			durations = []int{0} // only to learn the dialect
		}
		found, err := m.scan(ctx, durations)
		if *pan == nil {
			if err != nil {
				return err
			}
			*pan = found
		} else if m.Dialect() == "" {
			return fmt.Errorf("wisun: dialect not detected: %w", err)
		}
	}
	p := *pan
	if _, err := m.cmd(ctx, fmt.Sprintf("SKSREG S2 %02X", p.Channel)); err != nil {
		return err
	}
	if _, err := m.cmd(ctx, fmt.Sprintf("SKSREG S3 %04X", p.PanID)); err != nil {
		return err
	}
	r, err = m.command(ctx, "SKLL64 "+p.Addr, nil, m.cfg.CommandTimeout, true)
	if err != nil {
		return err
	}
	ll := r.value
	if want, _ := LinkLocal(p.Addr); !strings.EqualFold(ll, want) {
		m.log.Warn("wisun SKLL64 differs from the rule; using the module's", "module", ll, "rule", want)
	}
	return m.join(ctx, ll)
}

// setRXMode reads ROPT and writes WOPT only when it differs (flash wear);
// FAIL ER04 to ROPT identifies the RL7023.
func (m *Module) setRXMode(ctx context.Context) error {
	if m.Dialect() == RL7023 {
		m.asciiRX.Store(true)
		return nil
	}
	r, err := m.cmd(ctx, "ROPT")
	var ce *CommandError
	if errors.As(err, &ce) && ce.Code == 4 {
		m.setDialect(RL7023)
		m.asciiRX.Store(true)
		return nil
	}
	if err != nil {
		return err
	}
	want := "01"
	if m.cfg.BinaryRX {
		want = "00"
	}
	if r.value != want {
		m.log.Info("wisun writing ERXUDP mode to flash", "from", r.value, "to", want)
		if _, err := m.cmd(ctx, "WOPT "+want); err != nil {
			return err
		}
	}
	m.asciiRX.Store(want == "01")
	return nil
}

func (m *Module) setDialect(d Dialect) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dialect == "" {
		m.dialect = d
		m.log.Info("wisun dialect detected", "dialect", d)
	}
}

// scan runs SKSCAN with each duration until a matching PAN answers. The
// first SKSCAN of a ROHM module of unknown dialect carries the side
// argument: OK means BP35C0, FAIL ER05/ER06 means BP35A1.
func (m *Module) scan(ctx context.Context, durations []int) (*PANDesc, error) {
	mask := uint32(0xFFFFFFFF)
	channels := 28
	if m.cfg.Channel != 0 {
		mask = 1 << (m.cfg.Channel - 33)
		channels = 1
	}
	channels = min(channels, bits.OnesCount32(mask))
	for _, d := range durations {
		m.drain()
		base := fmt.Sprintf("SKSCAN 2 %08X %d", mask, d)
		text := base
		dialect := m.Dialect()
		if dialect == BP35C0 || dialect == "" {
			text += " " + strconv.Itoa(m.side)
		}
		_, err := m.cmd(ctx, text)
		if dialect == "" {
			var ce *CommandError
			switch {
			case err == nil:
				m.setDialect(BP35C0)
			case errors.As(err, &ce) && (ce.Code == 5 || ce.Code == 6):
				m.setDialect(BP35A1)
				_, err = m.cmd(ctx, base)
			}
		}
		if err != nil {
			return nil, err
		}
		// 0.01 s × (2^D + 1) per channel, plus margin.
		limit := time.Duration(channels)*10*time.Millisecond*time.Duration(1<<d+1) + 5*time.Second
		best, err := m.collect(ctx, limit)
		if err != nil {
			return nil, err
		}
		if best != nil {
			m.log.Info("wisun PAN found", "channel", best.Channel, "pan", fmt.Sprintf("%04X", best.PanID),
				"lqi", best.LQI, "duration", d)
			return best, nil
		}
		m.log.Debug("wisun scan found no matching PAN", "duration", d)
	}
	return nil, ErrNoPAN
}

// collect gathers beacons until EVENT 22 and returns the best match.
func (m *Module) collect(ctx context.Context, limit time.Duration) (*PANDesc, error) {
	t := m.clk.NewTimer(limit)
	defer t.Stop()
	var best *PANDesc
	for {
		select {
		case a := <-m.async:
			if a.pan != nil {
				if m.matches(*a.pan) && (best == nil || a.pan.LQI > best.LQI) {
					best = a.pan
				}
				continue
			}
			if a.ev.Code == EventScanDone {
				return best, nil
			}
		case <-t.C():
			return nil, fmt.Errorf("wisun: SKSCAN: %w: no EVENT 22 within %v", ErrTimeout, limit)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (m *Module) matches(d PANDesc) bool {
	if d.Side >= 0 && d.Side != m.side {
		return false
	}
	if m.cfg.PanID != 0 && int(d.PanID) != m.cfg.PanID {
		return false
	}
	if m.cfg.Role == RouteB {
		return strings.EqualFold(d.PairID, m.cfg.ID[len(m.cfg.ID)-8:])
	}
	return true
}

// join sends SKJOIN and waits for EVENT 25 (joined) or 24 (failed).
func (m *Module) join(ctx context.Context, ll string) error {
	m.drain()
	m.joinN.Add(1)
	if _, err := m.cmd(ctx, "SKJOIN "+ll); err != nil {
		return err
	}
	t := m.clk.NewTimer(m.cfg.JoinTimeout)
	defer t.Stop()
	for {
		select {
		case a := <-m.async:
			switch a.ev.Code {
			case EventJoined:
				if a.pan == nil {
					m.setJoined(ll)
					return nil
				}
			case EventJoinFailed:
				if a.pan == nil {
					return ErrJoinFailed
				}
			}
		case why := <-m.lost:
			return fmt.Errorf("%w during join: %w", errSessionLost, why)
		case <-t.C():
			return errJoinTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// keep watches a joined session until it is lost.
func (m *Module) keep(ctx context.Context, pan *PANDesc) error {
	probe := m.clk.NewTimer(m.cfg.ProbeInterval)
	defer func() { probe.Stop() }()
	for {
		select {
		case a := <-m.async:
			if a.pan != nil {
				continue
			}
			switch a.ev.Code {
			case EventLifetimeExpired:
				m.log.Info("wisun session lifetime expired; module re-authenticates")
			case EventJoined:
				m.setJoined(m.peerAddr())
			case EventJoinFailed:
				return fmt.Errorf("%w: re-authentication failed (EVENT 24)", errSessionLost)
			case EventTermRequest, EventTerminated, EventTermTimeout:
				return fmt.Errorf("%w: EVENT %02X", errSessionLost, a.ev.Code)
			}
		case why := <-m.lost:
			return fmt.Errorf("%w: %w", errSessionLost, why)
		case <-probe.C():
			if err := m.probe(ctx, pan); err != nil {
				return err
			}
			probe = m.clk.NewTimer(m.cfg.ProbeInterval)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (m *Module) peerAddr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peer
}

// probe asks SKINFO; a module that reports another channel or PAN has
// restarted and forgotten its configuration.
func (m *Module) probe(ctx context.Context, pan *PANDesc) error {
	r, err := m.cmd(ctx, "SKINFO")
	if err != nil {
		if !errors.Is(err, ErrTimeout) {
			return fmt.Errorf("%w: %w", errSessionLost, err)
		}
		if m.silent.Load() < maxSilent {
			return nil
		}
		return fmt.Errorf("%w: %w: %w", errSessionLost, errUnresponsive, err)
	}
	for _, l := range r.lines {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != "EINFO" {
			continue
		}
		ch, err1 := hexU16(f[3], 2)
		id, err2 := hexU16(f[4], 4)
		if err1 == nil && err2 == nil && (ch != pan.Channel || id != pan.PanID) {
			return fmt.Errorf("%w: module reports channel %02X PAN %04X (reset)", errSessionLost, ch, id)
		}
	}
	return nil
}

// drain drops stale asynchronous messages and re-join requests.
func (m *Module) drain() {
	for {
		select {
		case <-m.async:
		case <-m.lost:
		default:
			return
		}
	}
}
