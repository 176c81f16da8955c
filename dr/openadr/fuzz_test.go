package openadr

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzDecodeEvent30(f *testing.F) { fuzzDecode(f, V301) }
func FuzzDecodeEvent31(f *testing.F) { fuzzDecode(f, V31) }

// fuzzDecode: DecodeEvent never panics; an error is a *DecodeError; an
// accepted event keeps the model's invariants and every consumer
// (StatusAt, IntervalAt, Resolve, Prices, NextBoundary) runs on it.
func fuzzDecode(f *testing.F, v Version) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEvent(v, data, DecodeOptions{Now: now0, Seed: 7})
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			return
		}
		if e.ID == "" || len(e.Intervals) > MaxExpanded {
			t.Fatalf("accepted event without id or with %d intervals", len(e.Intervals))
		}
		for i, iv := range e.Intervals {
			if i > 0 && iv.Start.Before(e.Intervals[i-1].Start) {
				t.Fatal("intervals not sorted")
			}
			if !iv.End.IsZero() && iv.End.Before(iv.Start) {
				t.Fatalf("interval %d ends before it starts", i)
			}
			if iv.Simple != nil && (*iv.Simple < 0 || *iv.Simple > 3) {
				t.Fatalf("SIMPLE %d", *iv.Simple)
			}
			for _, l := range []*float64{iv.ImportLimitKW, iv.ExportLimitKW} {
				if l != nil && (*l < 0 || !finite(*l)) {
					t.Fatalf("limit %v", *l)
				}
			}
			for _, p := range []*float64{iv.Price, iv.ExportPrice} {
				if p != nil && !finite(*p) {
					t.Fatalf("price %v", *p)
				}
			}
		}
		for _, at := range []time.Time{now0, now0.Add(-100 * 24 * time.Hour), now0.Add(1000 * 24 * time.Hour)} {
			_ = e.StatusAt(at)
			_, _ = e.IntervalAt(at)
			_ = Resolve([]Event{e, e}, at, nil)
			_, _ = NextBoundary([]Event{e}, at)
		}
		for _, p := range Prices([]Event{e}) {
			if !p.End.After(p.Start) {
				t.Fatalf("empty price %+v", p)
			}
		}
	})
}
