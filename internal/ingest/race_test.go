//go:build race

package ingest

// raceEnabled scales down the tests whose cost the race detector
// multiplies.
const raceEnabled = true
