package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gatewayd-project/gatewayd/storage"
)

// Limits of the live stream.
const (
	// MaxStreams bounds concurrent /api/v1/stream clients.
	MaxStreams = 32
	// StreamPoll is how often a stream looks for new readings: a reading
	// reaches the browser within StreamPoll plus the network.
	StreamPoll = 250 * time.Millisecond
	// StreamHeartbeat keeps proxies and NATs from closing an idle stream.
	StreamHeartbeat = 15 * time.Second
	// streamLogQueue events wait per client; a slow client loses the
	// oldest log entries, never slows the gateway.
	streamLogQueue = 32
	// streamWriteTimeout bounds each write to a client.
	streamWriteTimeout = 10 * time.Second
)

type streamClient struct {
	logs chan storage.Event
}

type streams struct {
	mu      sync.Mutex
	clients map[*streamClient]struct{}
	closed  chan struct{}
	once    sync.Once
}

func newStreams() *streams {
	return &streams{clients: make(map[*streamClient]struct{}), closed: make(chan struct{})}
}

func (ss *streams) add() (*streamClient, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.clients) >= MaxStreams {
		return nil, false
	}
	c := &streamClient{logs: make(chan storage.Event, streamLogQueue)}
	ss.clients[c] = struct{}{}
	return c, true
}

func (ss *streams) remove(c *streamClient) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.clients, c)
}

// publishLog hands e to every client without blocking: a full queue
// drops its oldest entry.
func (ss *streams) publishLog(e storage.Event) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for c := range ss.clients {
		for {
			select {
			case c.logs <- e:
			default:
				select {
				case <-c.logs:
				default:
				}
				continue
			}
			break
		}
	}
}

func (ss *streams) closeAll() { ss.once.Do(func() { close(ss.closed) }) }

// GET /api/v1/stream: Server-Sent Events "meter", "health" and "log".
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	c, ok := s.streams.add()
	if !ok {
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "", "stream")
		return
	}
	defer s.streams.remove(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func(event string, v any) bool {
		buf.Reset()
		data, err := json.Marshal(v)
		if err != nil {
			return false
		}
		fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", event, data)
		return s.streamWrite(w, rc, buf.Bytes())
	}
	var lastHealth []byte
	sendHealth := func() bool {
		data, _ := json.Marshal(s.healthNow())
		if bytes.Equal(data, lastHealth) {
			return true
		}
		lastHealth = data
		return send("health", json.RawMessage(data))
	}
	var lastReceived time.Time
	sent := false
	sendMeter := func() bool {
		if s.opts.Meter == nil {
			return true
		}
		// Build the answer only when there is a newer reading.
		st := s.opts.Meter.MeterStatus()
		rec := newestReceived(st)
		if sent && rec.Equal(lastReceived) {
			return true
		}
		lastReceived, sent = rec, true
		return send("meter", meterResponse(st, s.now()))
	}
	// The client retries after 2 s when the connection drops.
	if !s.streamWrite(w, rc, []byte("retry: 2000\n\n")) || !sendHealth() || !sendMeter() {
		return
	}
	poll := time.NewTicker(StreamPoll)
	defer poll.Stop()
	beat := time.NewTicker(StreamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.streams.closed:
			return
		case e := <-c.logs:
			if !send("log", e) {
				return
			}
		case <-poll.C:
			if !sendMeter() || !sendHealth() {
				return
			}
		case <-beat.C:
			if !s.streamWrite(w, rc, []byte(": keep-alive\n\n")) {
				return
			}
		}
	}
}

func (s *Server) streamWrite(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}
