//go:build race

package privacy

// raceDetector: the race detector slows the export of a million events
// ~40-fold, past ClickHouse's read timeout.
const raceDetector = true
