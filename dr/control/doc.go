// Package control is gatewayd's site controller: it keeps the import at
// the meter under the import limit in force, applies the SIMPLE levels of
// demand-response events, runs deferrable jobs when the planner (or their
// deadline) says so, soaks export above the export limit, and brings shed
// loads back one at a time without a synchronised rebound (design digest
// §5.4-5.6).
//
// It is pure: no goroutines, no I/O, no clock. Each control period the
// caller builds [Inputs] (meter reading, the registry's devices, the
// active events' signals, plan.Want, the household's overrides), calls
// [Controller.Step] and sends the returned [Decision] commands through the
// device registry, logging Command.Reason. Randomness (restore delays)
// comes from a PCG seeded by [Config.Seed].
//
// # Limits
//
// The import limit is the least non-zero of the contract limit, the
// events' IMPORT_CAPACITY_LIMIT and the SIMPLE level policy's limit; the
// export limit likewise (contract, events). A household opting out of an
// event is the caller's business: it passes zero [Signals] for that
// event. Levels outside 0..3 are clamped.
//
// # Shedding
//
// When the import exceeds the limit (for [Config.ShedDelay], default: in
// the same period) the controller walks the managed loads in shed order
// and sheds until the predicted import is at most limit-MarginW:
//
//   - deferrable, then curtailable, then sheddable; within a class by
//     Priority, lower first; loads run to meet a deadline come after all
//     others, boosted loads last; critical and exempt loads never, nor a
//     running Continuous job (it cannot pause).
//   - deferrable and sheddable loads get CmdOff; curtailable ones CmdLimit
//     at CurtailW, or CmdOff when CurtailW is 0 or the device has no
//     CapCurtail. Curtailing is one step: a curtailed load is not switched
//     further off. A load whose device cannot take the command is not
//     managed at all.
//   - MinOn is respected (for switching off, not for a cap) unless the
//     import exceeds the limit by more than [Config.SafetyMarginW]
//     (default 10 % of the limit): then a second pass ignores it, because
//     fuse protection wins over comfort.
//   - the predicted import is the reading plus the changes commanded
//     but not yet seen in the devices' PowerW, counted for
//     [ResendPeriods] after the first send, so a shed device whose power
//     has not dropped is not counted twice; a device still drawing after
//     that is no longer trusted and the next load goes.
//
// Shedding in the period that sees the breach, with devices that follow
// within a period, brings the import back under the limit within two
// periods of a step in load or limit (TestSimulatedHome).
//
// # Restoring
//
// Once the import has stayed below limit-HysteresisW for RestoreDelay
// (always, without an import limit), a shed load whose cause is gone may
// come back when it fits (prediction + its RatedW, or the CurtailW to
// RatedW difference, below limit-MarginW) and its MinOff has passed. Each
// such load then waits its own delay U(0, RestoreRandomMax), drawn when it
// first fits; if it stops fitting the delay is drawn afresh later, so that
// loads released together at an event's end come back spread out. At most
// one load is restored per period, the most valuable first among those
// whose delay has passed (reverse shed order). A load that a level still
// holds is not restored (its hold is relabelled level_N); a deferrable
// load the plan now holds is simply released to the plan. Loads run for a
// deadline or a boost skip the random delay.
//
// # Levels
//
// [LevelPolicy] per SIMPLE level, [DefaultLevels] when left zero: 1 holds
// deferrables, 2 adds curtailing every curtailable and shedding sheddables
// with Priority < 50, 3 sheds everything non-critical. A level acts in the
// next Step after it changes. Level holds respect MinOn and touch only
// loads that are up (or, deferrables, planned to start); a household's
// own off is never undone. A deadline that forces a start and a boost beat
// the level; exempt loads are not held.
//
// # Deferrable loads
//
// A deferrable device with a pending job runs when the plan says so or
// when now >= Deadline - RemainingWh/RatedW - Period - DeadlineSlack (the "run now"
// fallback) and is held otherwise; without a job it is left alone. A
// planned start must keep the site below limit-MarginW; a deadline or
// boost start only below the limit itself: it yields to the hard limit
// only when it would breach it. A start that does not fit is held
// (import_limit) and goes through the restore path.
//
// # Export
//
// When the export exceeds the export limit (for ShedDelay) the
// controller soaks: one load per period, held deferrables with a job
// first, then curtailables and sheddables held by a level, each only if
// its power fits in the export (no import is created for it). Soaked
// loads go back to their plan or level once the site imports again
// (MinOn respected). Curtailing the inverter is not this package's job.
//
// # Commands
//
// A command goes out only when the desired state differs from the
// reported one (On, or LimitW for curtailing), and the same command is not
// repeated until ResendPeriods have passed without confirmation. Offline
// and unknown devices are skipped; their shed state is kept. Without a
// fresh reading (SiteOK false) nothing is shed, started against a limit
// or restored, and shed loads stay shed. Restores undo only the
// controller's own actions.
//
// # Caveats
//
// The prediction assumes the meter reading is at least as fresh as the
// device states. A running Continuous job cannot be shed even at fuse
// level, and the limit cannot be met when unmanaged and critical load
// alone exceed it. Reason times (deadlines) print in the location of the
// times given.
//
// Concurrency: Step must be called from one goroutine; Status may be
// called from any.
package control
