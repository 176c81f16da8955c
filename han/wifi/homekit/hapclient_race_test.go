//go:build race

package homekit

func init() { raceDetector = true }
