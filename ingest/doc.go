// Package ingest is the beacon HTTP service: POST /v1/events takes a batch of
// events from the browser SDK (or any server), checks the site key and the
// page's origin, validates every event with clear errors, enriches the valid
// ones (server and skew-corrected time, device from the user agent, language,
// location from the IP, anonymised IP) and produces them to Kafka
// (schemas.TopicEvents, keyed "site_id:subscriber_id"). It answers only after
// Kafka acknowledged, so an accepted event is durable.
//
// Usage: cfg := LoadConfig(r); cfg.Validate(); svc, err := New(cfg, deps, log);
// svc.Run(ctx). Run serves until ctx is done, then stops accepting, finishes
// requests in flight and closes the producer (flushing it).
//
// It does not: spool to disk when Kafka is down (it answers 503 with
// Retry-After and the client retries), rate-limit, or serve the browser SDK.
// It never reads ClickHouse; sites come from the control plane through a
// short-lived in-process cache (internal/sitecache).
package ingest
