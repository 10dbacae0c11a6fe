// Package automation holds the definitions of automations (a trigger and a
// series of delayed steps) and campaigns (a message with A/B variants sent
// to segments), their JSON form and validation, the deterministic
// push-request ids, holdout and variant assignment, and the one delivery
// policy (frequency cap, quiet hours, not-after) both go through. It is
// pure: no I/O; stream/internal/automate and dashboard-api use it.
package automation
