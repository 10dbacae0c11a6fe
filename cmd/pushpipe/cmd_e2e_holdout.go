package main

import "github.com/pushpipe/pushpipe/internal/automation"

// e2eInHoldout says whether a subscriber is held out of an automation: the
// same deterministic choice the dispatcher makes.
func e2eInHoldout(automationID, subscriberID string, pct float64) (bool, error) {
	return automation.InHoldout(automationID, subscriberID, pct), nil
}
