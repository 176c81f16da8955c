package tariff

import (
	"errors"
	"testing"
	"time"
)

func TestDeviceCostsTOUAndNoHouseholdCharges(t *testing.T) {
	tr := mustParse(t, deTariff) // 0.2610 × 1.19 per kWh, 0.45 a day, feed-in
	day := local(tr, 2025, 6, 2, 0, 0)
	hh := series(tr, day, day.AddDate(0, 0, 1), func(time.Time) (float64, float64) { return 0.5, 0.2 })
	dev := series(tr, day, day.AddDate(0, 0, 1), func(s time.Time) (float64, float64) {
		if s.In(tr.Location()).Hour() == 20 {
			return 0.5, 0.3 // 2 kWh in the evening; export is not the device's
		}
		return 0, 0
	})
	r, err := tr.DeviceCosts(dev, hh, Day, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := r.Total
	wantNear(t, "ImportKWh", st.ImportKWh, 2)
	wantNear(t, "ImportCost", st.ImportCost, 2*0.2610*1.19)
	wantNear(t, "Total", st.Total, 2*0.2610*1.19)
	wantNear(t, "PeakKW", st.PeakKW, 2)
	if st.FixedFees != 0 || st.DemandCharge != 0 || st.ExportKWh != 0 || st.ExportCredit != 0 {
		t.Errorf("household charges on a device: %+v", st)
	}
	// The same usage as a household costs the fee and earns the credit.
	h, _ := tr.Costs(dev, Day, nil, 0)
	if h.Total.FixedFees == 0 || h.Total.ExportCredit == 0 {
		t.Errorf("household report %+v", h.Total)
	}
}

func TestDeviceCostsTierFollowsHousehold(t *testing.T) {
	tr := mustParse(t, beijing) // +0.05 from 240 kWh, +0.30 from 400 kWh
	at := local(tr, 2025, 3, 10, 12, 0)
	// The household imports 100 kWh per slot from 230 kWh on; the device
	// uses 1 kWh in each of the first three slots.
	hh := series(tr, at, at.Add(time.Hour), flat(100))
	dev := series(tr, at, at.Add(45*time.Minute), flat(1))
	r, err := tr.DeviceCosts(dev, hh, Month, nil, 230)
	if err != nil {
		t.Fatal(err)
	}
	// Slot 1 starts at 230 (0 adder), slot 2 at 330 (0.05), slot 3 at
	// 430 (0.30): the device pays the step the household stands in.
	wantNear(t, "TierCost", r.Total.TierCost, 0.05+0.30)
	wantNear(t, "ImportCost", r.Total.ImportCost, 3*0.4883+0.35)
	p := r.Tier
	if p == nil || p.ConsumedKWh != 530 || p.Step != 2 {
		t.Errorf("tier progress after the device's last slot: %+v, want the household's 530 kWh", p)
	}
	// A household slot missing does not move the counter.
	hh[0].Missing = true
	r, err = tr.DeviceCosts(dev, hh, Month, nil, 230)
	if err != nil {
		t.Fatal(err)
	}
	// Slot 2 now starts at 230 too, slot 3 at 330.
	wantNear(t, "TierCost with a missing household slot", r.Total.TierCost, 0.05)
}

func TestDeviceCostsRejectsBadHousehold(t *testing.T) {
	tr := mustParse(t, deTariff)
	at := local(tr, 2025, 6, 2, 0, 7)
	bad := []Usage{{Start: at, End: at.Add(SlotDuration), ImportKWh: 1}}
	if _, err := tr.DeviceCosts(nil, bad, Day, nil, 0); !errors.Is(err, ErrInput) {
		t.Errorf("err = %v, want ErrInput", err)
	}
}
