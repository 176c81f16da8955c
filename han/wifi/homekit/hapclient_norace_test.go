//go:build !race

package homekit

// raceDetector: the test binary runs with -race.
const raceDetector = false
