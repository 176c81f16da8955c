// Package config loads gatewayd's YAML configuration strictly.
//
// [Load] and [Parse] decode the file by walking the YAML node tree
// themselves, so every problem is reported as an [*Error] naming the file,
// the line and the dotted key:
//
//	gatewayd.yaml:4: metering.baud: "fast" is not an integer
//	gatewayd.yaml:7: metering.prot: unknown key
//	gatewayd.yaml:3: metering.protocol: must be dlt645 or iec62056-21, not "x"
//
// Unknown keys, duplicate keys, wrong types, out-of-range values, syntax
// errors and a document that is not a mapping are all errors; when there
// are several, they are returned together with errors.Join. Defaults live
// only in [Default]; an empty file, a missing key or a key with an empty
// (null) value keeps the default. [Example] is a commented file of the
// defaults.
//
// Scalars are read from their text, whatever YAML type the text would
// resolve to: metering.address: 000000000001 stays that string. Integers
// are decimal; booleans are true or false; durations use Go syntax
// ("500ms", "1s"). Anchors, aliases and multiple documents are rejected.
//
// Concurrency: the package has no state; Config is a plain value.
//
// Caveats: Parse normalises metering.address (digits are left-padded to
// 12); [Config.Validate] checks values without normalising. A panic inside
// the YAML parser is turned into an *Error rather than crashing the caller.
package config
