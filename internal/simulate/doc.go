// Package simulate generates realistic synthetic beacon traffic and sends it
// to a running ingest service over HTTP, the way browsers running the SDK
// would: visitors with real browser user agents and languages, sessions of
// page views, the opt-in prompt and its outcome, push subscriptions (fake
// https endpoints and random keys), unsubscribes, custom events,
// conversions with revenue, and identify calls. Client timestamps spread
// over the past days; event ids are UUIDv7 generated "in the browser", so a
// retried batch carries the same ids.
//
// A fraction of events can be deliberately invalid, in varied ways, mixed
// into otherwise valid batches; the generator marks them, so tests can check
// that ingest rejects exactly those. Generation is deterministic for a seed
// and a clock; sending is concurrent (one visitor's batches stay in order on
// one worker), paced by a token-bucket rate limiter, and retried with
// backoff on 429, 5xx and network errors.
//
// It is a test and development tool: it has no persistent state, and it
// does not simulate push deliveries or clicks (those need real pushes).
package simulate
