// Package dr runs demand response and tariffs locally: it joins the
// OpenADR 3 VEN ([openadr]), the tariff engine ([tariff]), the import-limit
// controller ([control]) and the deferrable-load planner ([plan]) into one
// loop over the device registry.
//
// Each control period (config dr.period, default 2 s), and at once when the
// VEN reports a changed event set, the registry reports a device change or
// the household overrides something, [Service] does one step:
//
//  1. resolves the signals in force now from the known events (priority
//     wins; opted-out events are skipped): SIMPLE level, import and export
//     limits;
//  2. re-plans deferrable loads when prices, events or jobs changed (and
//     at least every minute): the tariff's 15-minute slots for the next
//     36 h, priced with dynamic prices from OpenADR PRICE events and the
//     HTTP feed, each slot's headroom being its import limit minus the
//     forecast base load (the site's import without the managed loads,
//     smoothed, at least 300 W);
//  3. gives the controller the site's net import (from the legal meter's
//     power), the devices, the signals, the plan and the overrides; sends
//     its commands through the registry and writes every one to the events
//     log (kind "intervention": what, why, the event, how long a shed
//     lasted).
//
// Decisions:
//   - Without any price information (no tariff, no dynamic price) a
//     deferrable job is wanted at once, like an appliance without a
//     gateway; levels and limits still hold it back.
//   - Continuous (one-block) jobs are those of devices that can neither be
//     curtailed nor are EV chargers (dishwashers, washing machines).
//   - Opting out of an event removes it from the signals (the controller
//     then restores loads one at a time, randomised) and is reported to
//     the VTN by the VEN. Opt-outs, exemptions and boosts survive a
//     restart (store keys dr/optout and dr/overrides).
//   - The controller's view of a device set is rebuilt when devices are
//     added or removed; shed state of devices that remain is re-learned
//     from their reported state.
package dr
