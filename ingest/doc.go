// Package ingest is the beacon HTTP service: POST /v1/events takes a batch of
// events from the browser SDK (or any server), checks the site key and the
// page's origin, validates every event with clear errors, enriches the valid
// ones (server and skew-corrected time, device from the user agent, language,
// location from the IP, anonymised IP) and produces them to Kafka
// (schemas.TopicEvents, keyed "site_id:subscriber_id"). It answers only after
// Kafka acknowledged, or, while Kafka does not, after the events were
// fsync'd to a bounded disk spool (internal/spool) that a replayer produces
// to Kafka in order; so an accepted event is durable. A full spool answers
// 503 with Retry-After.
//
// Usage: cfg := LoadConfig(r); cfg.Validate(); svc, err := New(cfg, deps, log);
// svc.Run(ctx). New opens the spool and starts replaying what an earlier
// process left in it. Run serves until ctx is done, then stops accepting,
// finishes requests in flight, stops the replayer (what is left stays on
// disk for the next start), and closes the producer (flushing it).
//
// It does not: rate-limit, or share a spool between instances (each has
// the subdirectory of its listen address).
// It never reads ClickHouse; sites come from the control plane through a
// short-lived in-process cache (internal/sitecache).
package ingest
