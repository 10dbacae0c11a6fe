// Package beacon decodes and validates the body of POST /v1/events against
// the limits in schemas/beacon.go and the JSON schema schemas/beacon.schema.json.
//
// It reports every problem as a Problem naming the event's position, the JSON
// field and what is wrong, so an SDK author can fix the sender from the answer
// alone. Body-level problems (malformed JSON, no events, too many) reject the
// whole body; an event-level problem rejects only that event.
//
// A timezone must be a zone of the IANA database, which this package embeds
// (time/tzdata) so the check does not depend on the host's tzdata.
//
// It does no I/O and knows nothing of HTTP, sites, time or enrichment.
package beacon
