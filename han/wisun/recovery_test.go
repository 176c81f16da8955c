package wisun

import (
	"context"
	"testing"
	"time"

	"github.com/gatewayd-project/gatewayd/han/wisun/emul"
)

func TestTxLimitPausesSend(t *testing.T) {
	r := startRig(t, emul.Config{Dialect: emul.BP35A1}, Config{})
	r.waitJoined(t)
	r.em.Faults().SetTxLimit(true)
	eventually(t, "EVENT 32", func() bool {
		r.mod.mu.Lock()
		defer r.mod.mu.Unlock()
		return r.mod.paused
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.mod.Send(ctx, meterLL, getE7); err == nil {
		t.Fatal("send went out while suspended")
	}
	done := make(chan error, 1)
	go func() { done <- r.mod.Send(context.Background(), meterLL, getE7) }()
	select {
	case err := <-done:
		t.Fatalf("send returned while suspended: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	r.em.Faults().SetTxLimit(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("send not resumed after EVENT 33")
	}
	if st := r.em.Stats(); st.Sends != 1 {
		t.Errorf("sends %d, want 1", st.Sends)
	}
}

// A module that stops answering in time is re-initialised (from SKRESET)
// once it answers again.
func TestUnresponsiveModule(t *testing.T) {
	r := startRig(t, emul.Config{Dialect: emul.BP35A1}, Config{CommandTimeout: 100 * time.Millisecond, ProbeInterval: 20 * time.Millisecond})
	r.waitJoined(t)
	r.em.Faults().SetSlowReplies(time.Second)
	eventually(t, "session dropped", func() bool { return !r.mod.Joined() })
	r.em.Faults().SetSlowReplies(0)
	eventually(t, "re-join", func() bool { return r.mod.Joined() && r.em.Stats().JoinsOK >= 2 })
	if st := r.em.Stats(); st.Resets == 0 {
		t.Errorf("no SKRESET after the module went silent: %+v", st)
	}
	r.roundTrip(t)
}

func TestPacketQueueDropsOldest(t *testing.T) {
	m, err := New(nopPort{}, Config{ID: testID, Password: testPW, PacketQueue: 2})
	if err != nil {
		t.Fatal(err)
	}
	h := ERXUDP{Sender: meterLL, Dest: ownLL, RPort: 0x0E1A, LPort: 0x0E1A, Side: -1}
	for i := range 5 {
		m.deliver(h, []byte{byte(i)})
	}
	m.deliver(ERXUDP{Sender: meterLL, LPort: 0x02CC, Side: -1}, []byte{9}) // PANA: ignored
	m.deliver(ERXUDP{Sender: meterLL, LPort: 0x0E1A, Side: 1}, []byte{9})  // HAN side: ignored
	if a, b := <-m.packets, <-m.packets; a.Data[0] != 3 || b.Data[0] != 4 {
		t.Fatalf("kept %v %v, want the newest two", a.Data, b.Data)
	}
	if st := m.Stats(); st.PacketsDropped != 3 {
		t.Fatalf("dropped %d, want 3", st.PacketsDropped)
	}
}
