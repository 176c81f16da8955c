// Package tariff is gatewayd's tariff engine: it parses a compact YAML
// tariff strictly, compiles it into 15-minute price slots and turns
// metered usage into derived money (cost reports, tier progress).
//
// It is pure: no I/O besides loading the time zone in [Parse], no clock
// (every time is an argument), no state between calls.
//
// # Schema
//
// One top-level key, tariff. Keys are camelCase; unknown keys, duplicate
// keys, anchors and aliases are errors. A key with no value counts as
// absent. Amounts are numbers per kWh in the tariff's currency.
//
//	tariff:
//	  timezone: Europe/Berlin     # required, IANA name; all months, days, hours,
//	                              #   day/month steps and tier periods are local
//	  currency: EUR               # required, ISO 4217: three capital letters
//	  import:                     # required
//	    # exactly one base source: fixed | tou | dynamic
//	    fixed: 0.30               # >= 0
//	    tou:
//	      default: 0.30           # required, >= 0: price where no zone matches
//	      zones:                  # optional, at most 256; the LAST matching zone wins
//	        - months: Jan-Mar,Nov-Dec  # optional (all): names or 1-12, ranges may wrap the year
//	          days: Mon-Fri       # optional (all): Sun..Sat or full names, ranges may wrap
//	          hours: "7-9,17:30-20"    # optional (all day): "HH[:MM]-HH[:MM]", no midnight
//	                              #   wrap ("22-0" is 22:00-24:00; split "22-0,0-6"),
//	                              #   minutes 00/15/30/45
//	          price: 0.40         # required, >= 0
//	          band: peak          # optional label, 1-32 characters
//	    dynamic:
//	      provider: http          # required: http | openadr
//	      params: {url: "..."}    # optional, free name: value pairs for the fetcher
//	      fallback:               # required: fixed | tou, used where data is missing
//	        fixed: 0.30
//	    tiers:                    # optional, import only: marginal block adders
//	      period: monthly         # required: monthly | annual | billing
//	      anchor: 1               # monthly: day 1-28 (default 1); annual: "MM-DD"
//	                              #   (default "01-01"); billing: day 1-28, required
//	      steps:                  # required, at most 64
//	        - {startKWh: 0, adder: 0}      # the first step starts at 0
//	        - {startKWh: 240, adder: 0.05} # strictly increasing; adders may be < 0
//	    charges: 0.0              # optional per-kWh adder (grid fees), >= 0
//	    chargesZones: []          # optional zones (same syntax) whose price replaces charges
//	    tax: 0.19                 # optional fraction 0..1
//	  export:                     # optional (absent: feed-in earns nothing); same keys
//	    fixed: 0.08               #   but no tiers; its charges may be negative (fees)
//	  fees:
//	    daily: 0.40               # fixed fee per local day, >= 0
//	  demand:
//	    monthlyPeakPerKW: 0.0     # per kW of the month's highest 15-minute average import
//
// Lists (months, days, hours) may also be written as YAML lists:
// hours: ["22-0", "0-6"]. Inside a flow mapping { ... } a comma ends the
// value, so write days: "Sat,Sun" there, never days: Sat,Sun (Parse
// reports the stray key "Sun" as CodeUnquotedList).
//
// A slot's price is (base + charges) × (1 + tax), base being the fixed
// price, the tou zone's or default price, or the dynamic value. Tier
// adders come on top, untaxed: give them as the tariff publishes them.
// Slot bands: the matching zone's band; else the matching chargesZones
// band; else "fixed", "default" or (dynamic data) "dynamic".
//
// A Chinese four-band time-of-use tariff (sharp/peak/flat/valley, 尖峰/
// 高峰/平段/低谷) with annual tiers; the prices are illustrative:
//
//	tariff:
//	  timezone: Asia/Shanghai
//	  currency: CNY
//	  import:
//	    tou:
//	      default: 0.62
//	      zones:
//	        - { price: 0.62, band: flat }
//	        - { hours: "8-11,18-23", price: 0.98, band: peak }
//	        - { hours: "0-8,23-0", price: 0.32, band: valley }
//	        - { months: "Jul-Aug,Dec-Jan", hours: "19-21", price: 1.18, band: sharp }
//	    tiers:
//	      period: annual
//	      anchor: "01-01"
//	      steps:
//	        - { startKWh: 0, adder: 0 }
//	        - { startKWh: 2760, adder: 0.05 }
//	        - { startKWh: 4800, adder: 0.30 }
//
// A German household: fixed energy price with VAT, feed-in tariff and a
// daily standing charge (illustrative prices):
//
//	tariff:
//	  timezone: Europe/Berlin
//	  currency: EUR
//	  import:
//	    fixed: 0.2610
//	    tax: 0.19
//	  export:
//	    fixed: 0.0786
//	  fees:
//	    daily: 0.45
//
// A dynamic tariff with time-variable grid fees (§14a EnWG module 3) and a
// fixed fallback:
//
//	tariff:
//	  timezone: Europe/Berlin
//	  currency: EUR
//	  import:
//	    dynamic:
//	      provider: http
//	      params: { url: "https://prices.example/day-ahead" }
//	      fallback:
//	        fixed: 0.12
//	    charges: 0.09
//	    chargesZones:
//	      - { hours: "0-6", price: 0.03, band: NT }
//	      - { hours: "17-20", price: 0.15, band: HT }
//	    tax: 0.19
//	  export:
//	    fixed: 0.0786
//
// # Errors
//
// [Parse] reports every problem at once as a *[ValidationError]. Each
// [Problem] has the full key path (list indexes 0-based), the YAML line,
// a stable code (the Code* constants) and arguments, and
// [Problem.Message] words it in English or Simplified Chinese.
//
// # Slots and dynamic prices
//
// [Tariff.Slots] compiles a range into local 15-minute slots: 96 a day,
// 92 or 100 on DST days. Dynamic data ([Price]) prices the sides whose
// source is dynamic; where several prices overlap, the latest Fetched
// wins. Data finer than 15 minutes is time-weighted; a slot only partly
// covered mixes data and fallback and is not Dynamic. Prices given for a
// fixed or tou side are ignored: to let OpenADR events drive prices,
// configure provider: openadr.
//
// # Costs and the tier counter
//
// [Tariff.Costs] prices 15-minute usage per local day or month: import
// cost by band, tier adders, export credit, daily fees, demand charges.
// It is derived money, never legal data, and unrounded.
//
// The tier counter is not stored here or anywhere else: the caller passes
// periodStartKWh, the import consumed in the current tier period before
// the first usage slot, computed as the difference of the legal import
// register at that slot's start and at the period start ([Tariff.Period]).
// The register is the only counter, so nothing can drift: a gateway
// restart, a lost slot or a clock step changes no later result. Within
// one call the counter advances by the usage's import and restarts at 0
// at each period start; slots marked Missing (or absent) add nothing, so
// pass a whole period's usage, or restart from the register after a gap.
//
// # Caveats
//
// Parse needs the IANA time zone database: on a target without
// /usr/share/zoneinfo the binary must import time/tzdata. Ranges are
// bounded to [MaxDays] local days. Tiers apply to import only; a
// formula (evcc) and OpenADR overrides of fixed or tou prices are not
// supported.
//
// Concurrency: a *Tariff is immutable and safe for concurrent use.
package tariff
