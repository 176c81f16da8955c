package coap

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plgd-dev/go-coap/v3/message"
	"github.com/plgd-dev/go-coap/v3/message/codes"
	"github.com/plgd-dev/go-coap/v3/mux"
)

// observer is one observation (RFC 7641) keyed by (conn, token). Its
// mailbox holds one document: a newer one replaces an undelivered older
// one, so a notifier never waits for a slow observer, and the observer
// always gets the latest state. A goroutine per observer sends the CON
// notifications (go-coap's WriteMessage blocks until the ACK).
type observer struct {
	cc    mux.Conn
	token []byte
	path  string
	doc   func() []byte // the resource's current representation
	mb    chan []byte
	stop  chan struct{}
	once  sync.Once
	// sentAt is when the observer last got the resource (the answer to
	// its registration or an ACKed notification), unix nanoseconds.
	sentAt atomic.Int64
}

func (o *observer) close() { o.once.Do(func() { close(o.stop) }) }

// observers is the observer registry.
type observers struct {
	log *slog.Logger
	seq *atomic.Uint64
	now func() time.Time

	mu     sync.Mutex
	byPath map[string][]*observer
	n      int
	ctx    context.Context
	// sent counts notifications delivered (ACKed), for tests and figures.
	sent atomic.Uint64
}

func newObservers(log *slog.Logger, seq *atomic.Uint64, now func() time.Time) *observers {
	return &observers{log: log, seq: seq, now: now, byPath: map[string][]*observer{}, ctx: context.Background()}
}

// RefreshEvery is the longest an observer goes without a notification: an
// unchanged resource is sent again (CON) so a dead observer is found and
// dropped, and a live one that missed a change catches up (RFC 7641 §4.5).
const RefreshEvery = 24 * time.Hour

// refresh re-sends the current representation to every observer that got
// nothing for RefreshEvery. It never blocks.
func (os_ *observers) refresh() {
	now := os_.now()
	os_.mu.Lock()
	var due []*observer
	for _, list := range os_.byPath {
		for _, o := range list {
			if now.Sub(time.Unix(0, o.sentAt.Load())) >= RefreshEvery {
				due = append(due, o)
			}
		}
	}
	os_.mu.Unlock()
	for _, o := range due {
		o.sentAt.Store(now.UnixNano()) // at most one refresh in flight
		put(o.mb, o.doc())
	}
}

// put hands b to a one-slot mailbox, replacing an undelivered document.
func put(mb chan []byte, b []byte) {
	for {
		select {
		case mb <- b:
			return
		default:
			select { // full: drop the older document and retry
			case <-mb:
			default:
			}
		}
	}
}

// nextSeq is the next Observe option value (24 bits, increasing).
func (os_ *observers) nextSeq() uint32 { return uint32(os_.seq.Add(1) & 0xffffff) }

// add registers an observation; false if a bound is reached.
func (os_ *observers) add(cc mux.Conn, token []byte, path string, doc func() []byte) bool {
	os_.mu.Lock()
	defer os_.mu.Unlock()
	for _, o := range os_.byPath[path] {
		if o.cc == cc && bytes.Equal(o.token, token) {
			return true // re-registration: keep it
		}
	}
	perSession := 0
	for _, list := range os_.byPath {
		for _, o := range list {
			if o.cc == cc {
				perSession++
			}
		}
	}
	if os_.n >= MaxObservers || perSession >= MaxObserversPerSession {
		return false
	}
	o := &observer{cc: cc, token: bytes.Clone(token), path: path, doc: doc, mb: make(chan []byte, 1), stop: make(chan struct{})}
	o.sentAt.Store(os_.now().UnixNano())
	os_.byPath[path] = append(os_.byPath[path], o)
	os_.n++
	go os_.deliver(o)
	return true
}

// remove deregisters (Observe=1, or a failed notification).
func (os_ *observers) remove(cc mux.Conn, token []byte, path string) bool {
	os_.mu.Lock()
	defer os_.mu.Unlock()
	list := os_.byPath[path]
	for i, o := range list {
		if o.cc == cc && bytes.Equal(o.token, token) {
			o.close()
			os_.byPath[path] = append(list[:i:i], list[i+1:]...)
			os_.n--
			return true
		}
	}
	return false
}

// dropConn removes every observation of a closed session.
func (os_ *observers) dropConn(cc mux.Conn) {
	os_.mu.Lock()
	defer os_.mu.Unlock()
	for p, list := range os_.byPath {
		kept := list[:0]
		for _, o := range list {
			if o.cc == cc {
				o.close()
				os_.n--
				continue
			}
			kept = append(kept, o)
		}
		os_.byPath[p] = kept
	}
}

// count is the number of observations.
func (os_ *observers) count() int {
	os_.mu.Lock()
	defer os_.mu.Unlock()
	return os_.n
}

// notify hands b to every observer of path without blocking.
func (os_ *observers) notify(path string, b []byte) {
	os_.mu.Lock()
	list := append([]*observer(nil), os_.byPath[path]...)
	os_.mu.Unlock()
	for _, o := range list {
		put(o.mb, b)
	}
}

func (os_ *observers) run(ctx context.Context) {
	<-ctx.Done()
	os_.mu.Lock()
	defer os_.mu.Unlock()
	for p, list := range os_.byPath {
		for _, o := range list {
			o.close()
		}
		delete(os_.byPath, p)
	}
	os_.n = 0
}

func (os_ *observers) deliver(o *observer) {
	for {
		select {
		case <-o.stop:
			return
		case <-o.cc.Done():
			return
		case b := <-o.mb:
			if err := os_.send(o, b); err != nil {
				os_.log.Debug("coap: notification failed; observer dropped", "path", o.path, "peer", o.cc.RemoteAddr(), "err", err)
				os_.remove(o.cc, o.token, o.path)
				return
			}
			os_.sent.Add(1)
			o.sentAt.Store(os_.now().UnixNano())
		}
	}
}

func (os_ *observers) send(o *observer, b []byte) error {
	m := o.cc.AcquireMessage(o.cc.Context())
	defer o.cc.ReleaseMessage(m)
	m.SetCode(codes.Content)
	m.SetToken(o.token)
	m.SetContentFormat(message.AppJSON)
	m.SetBody(bytes.NewReader(b))
	m.SetObserve(os_.nextSeq())
	m.SetType(message.Confirmable)
	return o.cc.WriteMessage(m)
}
