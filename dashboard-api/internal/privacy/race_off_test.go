//go:build !race

package privacy

const raceDetector = false
