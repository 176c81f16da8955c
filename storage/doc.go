// Package storage is the history of gatewayd: the only owner of the bbolt
// database. It exposes domain methods (Append/Commit/Run for readings,
// QuerySeries, Consumption, Export, events, key/value, HAPStore, Backup,
// Check), never buckets.
//
// Layout: top-level buckets meta, series (device\x00quantity\x00L|D ->
// ID and decimal exponent), legal and derived (each with tiers raw,
// minute, quarter, day), events and kv. A tier holds chunks: one bbolt
// value per (period, commit sequence) with a tsenc block per series.
// Legal holds values as read from the metrology core (raw; the minute
// freezes; those at each quarter hour; at local midnight) and is never
// modified: on equal timestamps the first committed value wins. Derived
// holds rollups (first, min, max, sum, n, last) of every series per
// minute, quarter and local day.
//
// Writes: Run takes batches from the bus (lossless, bounded), Commit makes
// them durable as one record of the write-ahead log (wal.go), which moves
// into bbolt in batches; Maintain flushes the log when due, deletes expired
// chunks (bounded per transaction) and compacts closed periods. Open
// rebuilds open rollup periods from the raw tier and replays the log, so a
// crash loses nothing committed.
//
// Options were chosen on purpose (see Open): a 1 s lock timeout, the
// hashmap freelist with NoFreelistSync, fsync on every bbolt commit.
//
// Concurrency: all methods are safe for concurrent use; one commit,
// flush or maintenance step runs at a time.
//
// Caveats: rollups follow data as it arrives: a point older than its open
// rollup period (a late or backfilled value) is stored raw and, if legal,
// in the legal tiers, but not added to derived rollups. Values finer than
// a series' exponent (fixed at its first reading) are truncated.
package storage
