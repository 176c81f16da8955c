package echonet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatewayd-project/gatewayd/energy"
)

// Bounds of a client.
const (
	// MaxPending bounds the requests waiting for a reply.
	MaxPending = 64
	// NotifyQueue is the capacity of [Client.Notifications]; when it is
	// full the oldest notification is dropped.
	NotifyQueue = 64
	// MaxNodes bounds what one discovery collects.
	MaxNodes = 256
	// DefaultTimeout suits route B, where a meter may take seconds; IP
	// callers usually set 3 s.
	DefaultTimeout = 20 * time.Second
	// badLogEvery rate-limits the log of malformed frames.
	badLogEvery = time.Minute
)

// Client errors.
var (
	ErrTimeout = errors.New("echonet: no reply")
	ErrBusy    = errors.New("echonet: too many requests waiting")
	ErrClosed  = errors.New("echonet: client stopped")
)

// SNAError is a "not possible" reply. Failed lists the EPCs the object
// refused: those with PDC 0 in a Get_SNA, those echoed with their data in a
// SetC_SNA.
type SNAError struct {
	ESV    ESV
	Failed []byte
}

func (e *SNAError) Error() string {
	return fmt.Sprintf("echonet: %s for EPC % X", e.ESV, e.Failed)
}

// ClientOptions configure a [Client]. The zero value is usable.
type ClientOptions struct {
	// Clock times requests; nil means the system clock.
	Clock energy.Clock
	// Timeout bounds the wait for one reply; 0 means DefaultTimeout (20 s,
	// route B). IP callers usually set 3 s.
	Timeout time.Duration
	// Log receives rate-limited reports of malformed frames; nil discards.
	Log *slog.Logger
	// Source is the object requests come from; zero means Controller.
	Source EOJ
}

// Notification is an INF or INFC a node sent.
type Notification struct {
	Src   Addr
	Frame Frame
}

// Node is a node found by discovery: its address and device objects (the
// node profile's D6 instance list).
type Node struct {
	Addr    Addr
	Objects []EOJ
}

// Client sends requests over a [Transport] and correlates the replies. It
// is safe for concurrent use; [Client.Run] must be running for replies to
// arrive.
type Client struct {
	tr      Transport
	clock   energy.Clock
	timeout time.Duration
	log     *slog.Logger
	src     EOJ

	notes   chan Notification
	acks    chan reply // INFC_Res to send: dst and frame
	done    chan struct{}
	started atomic.Bool
	bad     atomic.Uint64

	mu       sync.Mutex
	tid      uint16
	pending  map[*waiter]struct{}
	badSince int
	lastBad  time.Time
}

type reply struct {
	src Addr
	f   Frame
}

type waiter struct {
	req Frame
	dst Addr
	any bool // multicast: a reply from any address counts
	ch  chan reply
}

// NewClient returns a client over tr.
func NewClient(tr Transport, o ClientOptions) *Client {
	c := &Client{tr: tr, clock: o.Clock, timeout: o.Timeout, log: o.Log, src: o.Source,
		notes: make(chan Notification, NotifyQueue), acks: make(chan reply, 16),
		done: make(chan struct{}), pending: map[*waiter]struct{}{}}
	if c.clock == nil {
		c.clock = energy.SystemClock{}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.src == (EOJ{}) {
		c.src = Controller
	}
	return c
}

// Notifications delivers the INF and INFC frames nodes send (INFC is also
// answered). When the consumer lags, the oldest are dropped.
func (c *Client) Notifications() <-chan Notification { return c.notes }

// BadFrames counts the datagrams that did not decode.
func (c *Client) BadFrames() uint64 { return c.bad.Load() }

// Run consumes the transport's packets until ctx is done (nil) or the
// transport closes its channel (ErrClosed). Waiting requests fail with
// ErrClosed once it returns. Run may be called once.
func (c *Client) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("echonet: client already running")
	}
	defer close(c.done)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.sendAcks(ctx)
	}()
	pkts := c.tr.Packets()
	for {
		select {
		case <-ctx.Done():
			return nil
		case p, ok := <-pkts:
			if !ok {
				return ErrClosed
			}
			c.handle(p)
		}
	}
}

func (c *Client) handle(p Packet) {
	if len(p.Data) > MaxFrame {
		c.badFrame(p.Src, ErrLarge)
		return
	}
	f, err := Decode(p.Data)
	if err != nil {
		c.badFrame(p.Src, err)
		return
	}
	matched := c.deliver(p.Src, f)
	if f.ESV == INFC {
		ack := Frame{TID: f.TID, SEOJ: f.DEOJ, DEOJ: f.SEOJ, ESV: INFCRes, Props: make([]Property, len(f.Props))}
		if ack.SEOJ.Instance() == 0 {
			ack.SEOJ = c.src
		}
		for i, pr := range f.Props {
			ack.Props[i] = Property{EPC: pr.EPC}
		}
		select {
		case c.acks <- reply{src: p.Src, f: ack}:
		default:
			c.log.Warn("echonet: INFC_Res queue full, not answered", "src", p.Src, "tid", f.TID)
		}
	}
	if f.ESV == INF || f.ESV == INFC {
		c.notify(Notification{Src: p.Src, Frame: f})
		return
	}
	if !matched {
		c.log.Debug("echonet: unmatched frame", "src", p.Src, "esv", f.ESV.String(), "tid", f.TID, "seoj", f.SEOJ.String())
	}
}

// sendAcks answers INFCs off the receive loop: a slow transport (route B)
// must not hold up replies.
func (c *Client) sendAcks(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-c.acks:
			dst := a.src
			b, err := a.f.Encode()
			if err == nil {
				sctx, cancel := context.WithTimeout(ctx, c.timeout)
				err = c.tr.Send(sctx, dst, b)
				cancel()
			}
			if err != nil {
				c.log.Warn("echonet: INFC_Res not sent", "dst", dst, "err", err)
			}
		}
	}
}

func (c *Client) notify(n Notification) {
	for range 2 {
		select {
		case c.notes <- n:
			return
		default:
		}
		select { // full: drop the oldest
		case <-c.notes:
		default:
		}
	}
}

func (c *Client) badFrame(src Addr, err error) {
	c.bad.Add(1)
	now := c.clock.Now()
	c.mu.Lock()
	c.badSince++
	if !c.lastBad.IsZero() && now.Sub(c.lastBad) < badLogEvery {
		c.mu.Unlock()
		return
	}
	n := c.badSince
	c.badSince, c.lastBad = 0, now
	c.mu.Unlock()
	c.log.Warn("echonet: malformed frames dropped", "src", src, "err", err, "count", n)
}

func (c *Client) deliver(src Addr, f Frame) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for w := range c.pending {
		if IsReplyTo(w.req, f) && (w.any || strings.EqualFold(string(w.dst), string(src))) {
			select {
			case w.ch <- reply{src: src, f: f}:
			default: // a duplicate or a flood of multicast replies
			}
			return true
		}
	}
	return false
}

// register gives f a fresh TID and the client's source object, encodes it
// and adds a waiter for its replies.
func (c *Client) register(f *Frame, dst Addr, any bool, capacity int) (*waiter, []byte, error) {
	if f.SEOJ == (EOJ{}) {
		f.SEOJ = c.src
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) >= MaxPending {
		return nil, nil, ErrBusy
	}
	for inUse := true; inUse; {
		c.tid++
		inUse = false
		for w := range c.pending {
			inUse = inUse || w.req.TID == c.tid
		}
	}
	f.TID = c.tid
	b, err := f.Encode()
	if err != nil {
		return nil, nil, err
	}
	w := &waiter{req: *f, dst: dst, any: any, ch: make(chan reply, capacity)}
	c.pending[w] = struct{}{}
	return w, b, nil
}

func (c *Client) unregister(w *waiter) {
	c.mu.Lock()
	delete(c.pending, w)
	c.mu.Unlock()
}

// Request sends f to dst with a fresh TID (and the client's source object
// when f.SEOJ is zero) and returns the reply. Requests that expect no reply
// (SetI, INF) return a zero Frame once sent.
func (c *Client) Request(ctx context.Context, dst Addr, f Frame) (Frame, error) {
	if normal, _, ok := f.ESV.Replies(); !ok || normal == 0 {
		if f.SEOJ == (EOJ{}) {
			f.SEOJ = c.src
		}
		c.mu.Lock()
		c.tid++
		f.TID = c.tid
		c.mu.Unlock()
		b, err := f.Encode()
		if err == nil {
			err = c.tr.Send(ctx, dst, b)
		}
		if err != nil {
			return Frame{}, fmt.Errorf("echonet: %s %s %s: %w", f.ESV, dst, f.DEOJ, err)
		}
		return Frame{}, nil
	}
	w, b, err := c.register(&f, dst, false, 1)
	if err != nil {
		return Frame{}, fmt.Errorf("echonet: %s %s %s: %w", f.ESV, dst, f.DEOJ, err)
	}
	defer c.unregister(w)
	t := c.clock.NewTimer(c.timeout)
	defer t.Stop()
	if err := c.tr.Send(ctx, dst, b); err != nil {
		return Frame{}, fmt.Errorf("echonet: %s %s %s: send: %w", f.ESV, dst, f.DEOJ, err)
	}
	select {
	case r := <-w.ch:
		return r.f, nil
	case <-t.C():
		return Frame{}, fmt.Errorf("echonet: %s %s %s TID %d after %v: %w", f.ESV, dst, f.DEOJ, f.TID, c.timeout, ErrTimeout)
	case <-ctx.Done():
		return Frame{}, fmt.Errorf("echonet: %s %s %s: %w", f.ESV, dst, f.DEOJ, ctx.Err())
	case <-c.done:
		return Frame{}, fmt.Errorf("echonet: %s %s %s: %w", f.ESV, dst, f.DEOJ, ErrClosed)
	}
}

// Get reads epcs from object deoj at dst. On a Get_SNA it returns the
// properties that did come back with an error wrapping *SNAError. The
// returned data does not alias any buffer.
func (c *Client) Get(ctx context.Context, dst Addr, deoj EOJ, epcs ...byte) (map[byte][]byte, error) {
	if len(epcs) == 0 {
		return nil, fmt.Errorf("echonet: get %s %s: no EPCs", dst, deoj)
	}
	f := Frame{DEOJ: deoj, ESV: Get, Props: make([]Property, len(epcs))}
	for i, e := range epcs {
		f.Props[i].EPC = e
	}
	r, err := c.Request(ctx, dst, f)
	if err != nil {
		return nil, fmt.Errorf("echonet: get %s %s: %w", dst, deoj, err)
	}
	out := make(map[byte][]byte, len(r.Props))
	var failed []byte
	for _, p := range r.Props {
		if len(p.EDT) == 0 {
			failed = append(failed, p.EPC)
			continue
		}
		out[p.EPC] = slices.Clone(p.EDT)
	}
	if r.ESV == GetSNA {
		return out, fmt.Errorf("echonet: get %s %s: %w", dst, deoj, &SNAError{ESV: r.ESV, Failed: failed})
	}
	return out, nil
}

// SetC writes props to object deoj at dst and waits for Set_Res. A
// SetC_SNA fails with an error wrapping *SNAError naming the refused EPCs.
func (c *Client) SetC(ctx context.Context, dst Addr, deoj EOJ, props ...Property) error {
	if len(props) == 0 {
		return fmt.Errorf("echonet: setc %s %s: no properties", dst, deoj)
	}
	r, err := c.Request(ctx, dst, Frame{DEOJ: deoj, ESV: SetC, Props: props})
	if err != nil {
		return fmt.Errorf("echonet: setc %s %s: %w", dst, deoj, err)
	}
	if r.ESV != SetCSNA {
		return nil
	}
	var failed []byte
	for _, p := range r.Props {
		if len(p.EDT) > 0 {
			failed = append(failed, p.EPC)
		}
	}
	if len(failed) == 0 { // a node that echoes nothing refused it all
		for _, p := range props {
			failed = append(failed, p.EPC)
		}
	}
	return fmt.Errorf("echonet: setc %s %s: %w", dst, deoj, &SNAError{ESV: r.ESV, Failed: failed})
}

// Discover multicasts a Get of the node profile's instance list (D6) and
// collects the replies that arrive within window, sorted by address. When
// ctx ends first it returns what it has with ctx's error.
func (c *Client) Discover(ctx context.Context, window time.Duration) ([]Node, error) {
	f := Frame{DEOJ: NodeProfile, ESV: Get, Props: []Property{{EPC: 0xD6}}}
	w, b, err := c.register(&f, "", true, MaxPending)
	if err != nil {
		return nil, fmt.Errorf("echonet: discover: %w", err)
	}
	defer c.unregister(w)
	t := c.clock.NewTimer(window)
	defer t.Stop()
	if err := c.tr.Multicast(ctx, b); err != nil {
		return nil, fmt.Errorf("echonet: discover: multicast: %w", err)
	}
	var nodes []Node
	seen := map[string]int{}
	sorted := func() []Node {
		slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(string(a.Addr), string(b.Addr)) })
		return nodes
	}
	add := func(r reply) {
		edt, ok := r.f.Prop(0xD6)
		if r.f.ESV != GetRes || !ok {
			return
		}
		objs, err := DecodeInstanceList(edt)
		if err != nil {
			c.log.Warn("echonet: discover: bad instance list", "src", r.src, "err", err)
			return
		}
		key := strings.ToUpper(string(r.src))
		if i, dup := seen[key]; dup {
			nodes[i].Objects = objs
		} else if len(nodes) < MaxNodes {
			seen[key] = len(nodes)
			nodes = append(nodes, Node{Addr: r.src, Objects: objs})
		}
	}
	for {
		select {
		case r := <-w.ch:
			add(r)
		case <-t.C():
			for { // replies already queued still count
				select {
				case r := <-w.ch:
					add(r)
					continue
				default:
				}
				return sorted(), nil
			}
		case <-ctx.Done():
			return sorted(), fmt.Errorf("echonet: discover: %w", ctx.Err())
		case <-c.done:
			return sorted(), fmt.Errorf("echonet: discover: %w", ErrClosed)
		}
	}
}

// NodeObjects reads the device objects of the node at dst (D6).
func (c *Client) NodeObjects(ctx context.Context, dst Addr) ([]EOJ, error) {
	props, err := c.Get(ctx, dst, NodeProfile, 0xD6)
	if err != nil {
		return nil, err
	}
	objs, err := DecodeInstanceList(props[0xD6])
	if err != nil {
		return nil, fmt.Errorf("echonet: node objects %s: %w", dst, err)
	}
	return objs, nil
}

// DecodeInstanceList parses a D5/D6 instance list: a count, then as many
// 3-byte EOJs.
func DecodeInstanceList(edt []byte) ([]EOJ, error) {
	if len(edt) < 1 || len(edt) != 1+3*int(edt[0]) {
		return nil, fmt.Errorf("%w: instance list of %d bytes", ErrEDT, len(edt))
	}
	out := make([]EOJ, edt[0])
	for i := range out {
		copy(out[i][:], edt[1+3*i:])
	}
	return out, nil
}
