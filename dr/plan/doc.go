// Package plan places deferrable loads (EV charging, dishwasher, water
// heating) in the cheapest time before their deadlines, evcc and EMHASS
// style (design digest §5.1, §5.3).
//
// It is pure: no goroutines, no I/O, no clock. [Plan] takes the time,
// price slots with headroom, and the jobs; [Want] turns the result into
// the controller's run/hold map (control.Inputs.Plan). Re-planning is
// calling Plan again with new prices, limits and job states (MPC style);
// nothing is kept between calls.
//
// # Placement
//
//   - A job needs RemainingWh/PowerW of run time, rounded up to the
//     second, at fixed power (on or off, no modulation).
//   - Loads are placed one after another, the least slack first
//     (deadline - max(now, Earliest) - run time; no deadline: last; a
//     running Continuous job: first, as it is fixed). Ties keep input
//     order.
//   - Each load takes whole-slot headroom: a slot it uses for any part
//     loses PowerW of its LimitW (0 unlimited, negative none), and a slot
//     whose headroom left is below PowerW is not usable. So planned loads
//     never add up beyond a slot's headroom; the price is that two loads
//     in different halves of one slot count as overlapping.
//   - Non-continuous: usable slots by price, ties to the later start;
//     taken until the run time is covered; the last slot taken is cut at
//     its start if it is the earliest chosen (start as late as possible),
//     else at its end.
//   - Continuous: a window of the run time slides over runs of contiguous
//     usable slots, starting at a slot start or ending at a slot end (the
//     cost is piecewise linear, so one of those is the optimum); the
//     cheapest wins, ties to the later window. A Running job keeps its
//     block from now and is never split or moved.
//   - Slots are sorted, overlaps trimmed; a slot starting before now
//     counts from now, a deadline inside a slot cuts it.
//
// # Deadlines and missing prices
//
//   - Deadline already unreachable (or too little headroom before it in
//     the known slots): Feasible false, the job runs as soon as possible
//     ([max(now, Earliest), +run time), whatever the headroom; the site
//     controller still enforces the hard limit).
//   - Deadline past the last known slot: if the usable known slots
//     suffice, the job is planned within them. Otherwise it takes all of
//     them and runs the rest as late as the deadline allows after the last
//     known slot (evcc's latest start), priced at nothing; a continuous job
//     takes the latest window whose known part is usable. A later
//     re-plan with more prices refines it.
//   - No slots at all: the latest start before the deadline; no deadline
//     either: now.
//   - No deadline: within the known slots, any remainder straight after
//     them.
//
// # Prices
//
// Slot prices are the marginal import prices per kWh. Tier adders
// (dr/tariff) are the caller's: a uniform adder raises every slot alike
// and changes no placement (only CostEstimate), so pass the adder of the
// current tier, or none. [FromTariff] converts tariff slots.
//
// # Start randomisation
//
// With a non-nil rnd the first start moves later by U(0, MaxStartJitter),
// whole seconds, and the same time is added at the end: in the last slot
// already taken, then in contiguous usable slots, never past the
// deadline. Without room the offset shrinks (to none when a plan ends on a
// full slot before an unusable one or the deadline). Houses therefore do
// not all start at the same quarter-hour boundary (digest §5.5). Running
// jobs get no offset, so a re-plan never stops a started job for it.
//
// Concurrency: Plan and Want share nothing; a *rand.Rand passed in must
// not be used concurrently elsewhere.
package plan
