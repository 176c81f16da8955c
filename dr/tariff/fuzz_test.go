package tariff

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse: Parse never panics; a rejected document yields well-formed
// problems in both languages; an accepted one compiles and prices a DST
// day without error.
func FuzzParse(f *testing.F) {
	for _, doc := range []string{cnTariff, deTariff, dynTariff, beijing} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Parse(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty *ValidationError", err, err)
			}
			for _, p := range ve.Problems {
				if p.Code == "" || p.Line < 0 || p.Message("en") == "" || p.Message("zh") == p.Message("en") {
					t.Fatalf("bad problem %+v", p)
				}
			}
			return
		}
		if tr.Location() == nil || len(tr.Currency()) != 3 || len(tr.Bands()) == 0 {
			t.Fatalf("accepted tariff without zone, currency or bands: %v %q %v", tr.Location(), tr.Currency(), tr.Bands())
		}
		from := time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)
		slots, err := tr.Slots(from, from.Add(48*time.Hour), nil)
		if err != nil || len(slots) < 190 {
			t.Fatalf("Slots: %d, %v", len(slots), err)
		}
		u := make([]Usage, len(slots))
		for i, s := range slots {
			u[i] = Usage{Start: s.Start, End: s.End, ImportKWh: 0.25, ExportKWh: 0.1}
		}
		if _, err := tr.Costs(u, Month, nil, 1000); err != nil {
			t.Fatalf("Costs: %v", err)
		}
	})
}
