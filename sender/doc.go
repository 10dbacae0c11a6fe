// Package sender is the sender role: it consumes schemas.PushRequest from
// the push-requests topic and delivers each with Web Push (RFC 8030),
// message encryption (RFC 8291, aes128gcm) and VAPID (RFC 8292), as
// SherClockHolmes/webpush-go does (and with it, when Config.Stock), then
// reports the outcome as a system event (push_sent, push_failed,
// subscription_expired) on the events topic.
//
// # Flow
//
// One consumer-group reader. A fetch takes one of Config.Concurrency*8
// holds (the backpressure: when the sender holds that many unfinished
// requests, slow or retrying, intake waits) and is delivered in its own
// goroutine: validate → claim the request id in this process → check
// push_deliveries (skip if present) → check the size → send, retrying →
// write push_deliveries → write the result event (keyed site:subscriber)
// → mark done. An HTTP attempt takes one of Config.Concurrency active
// slots only while it runs; backoffs hold none. Offsets are committed per
// partition in order: the committer commits the highest offset below which
// every fetched message is done, so a request waiting out a backoff holds
// back only its own partition's commit, never the delivery of other
// requests (of any partition).
//
// # Per-origin fairness
//
// At most Config.HostRate attempts per second go to one push-service host
// (a token bucket, burst one second's worth; a wait that would pass the
// request's deadline fails it as expired). At most Concurrency/2 attempts
// are in flight to one push-service host,
// so one whose requests hang until the timeout leaves the other half of
// the active slots to the rest. A circuit breaker per host opens after 5
// consecutive retryable failures: no attempt goes to it until a cooldown
// (exponential from RetryBase up to RetryMax, or the Retry-After when
// longer) passes; any other answer closes it. Requests waiting on an open
// circuit hold no active slot; one whose deadline would pass while waiting
// fails as expired.
//
// # Send path and VAPID
//
// By default the sender builds what webpush-go builds (same aes128gcm body
// for the same salt and ephemeral key, same headers, same JWT header and
// claims aud/exp/sub), but signs the VAPID JWT once per site and origin and
// reuses it for 4 hours (exp is 12 hours after signing, so a push service
// always sees at least 8 hours left), and uses crypto/ecdh instead of the
// deprecated crypto/elliptic webpush-go uses. Per message it still draws a
// fresh ephemeral key and salt (RFC 8291). Agreement is tested: the RFC
// 8291 Appendix A body is reproduced, webpush-go's bodies are re-sealed
// byte for byte, both paths' JWTs carry the same header and claims, and
// the integration tests run every answer through both paths to the test
// push service, which verifies the JWT and decrypts. Config.Stock selects
// webpush.SendNotificationWithContext per message instead.
//
// Measured with TestBenchSender (PUSHPIPE_BENCH_SENDER=1; the test push
// service in a child process; pushes per CPU-second of the sending process
// through encryption, VAPID and HTTP, without Kafka and Postgres; 167-byte
// payload, 16 senders, GOMAXPROCS=2, five runs on one machine): pushpipe
// 9,400-12,200/s, stock webpush-go (SendNotification, default options)
// 4,100-5,500/s, ratio 2.06-2.33; webpush-go with the sender's client and
// record size gives ratio ~1.7 (the share of per-message signing and
// crypto/elliptic). What remains is dominated by the two P-256 scalar
// multiplications per message that RFC 8291's ephemeral key requires.
//
// # Answers
//
//   - 200/201/202: push_sent.
//   - 404, 410: subscription_expired (reason not_found / gone); never retried.
//   - 413: push_failed too_large; never retried.
//   - 400, 401, 403: push_failed config_error, logged with site and
//     status; the subscription is kept.
//   - 408, 429, 5xx, timeouts (Config.Timeout per attempt) and connection
//     errors: retried with exponential backoff (Config.RetryBase doubling
//     up to Config.RetryMax, jitter in the upper half) or the Retry-After
//     delay when longer, while the next attempt starts before the request's
//     deadline (the earlier of created_at+ttl_seconds and not_after); then
//     push_failed expired. A TTL of 0 without not_after gets one attempt.
//     Each attempt's TTL header is what is left of the request's TTL.
//   - Other statuses: push_failed unexpected_status. Keys that do not
//     encrypt: push_failed invalid_subscription. A site unknown to the
//     control plane: push_failed unknown_site.
//
// Before sending, the encrypted body size is computed (payload + 103 bytes
// of aes128gcm header, delimiter and tag, or Config.RecordSize when that is
// larger): above 4096 bytes the request fails as too_large, with a log line
// naming the limit and the size, and the push service is not called.
// webpush-go pads every message to 4096 bytes unless told otherwise; the
// sender passes RecordSize = that computed size, so by default nothing is
// padded (one record, the body is exactly the payload + 103 bytes).
//
// Each site's VAPID private key is unsealed from the control plane once per
// process and cached (a key rotated in the control plane is picked up at
// the next start). JWT claims: aud = the endpoint's origin, exp = signing
// time + 12 h, sub = the site's contact (mailto: or https:).
//
// # Exactly what "at most once" means
//
// push_deliveries (schemas/postgres/0002) is checked before sending and
// written after the final answer, and a request id is claimed within the
// process so a message handed out twice (after a rebalance) waits for its
// first copy. A request is therefore sent twice only when its outcome was
// not recorded although the push service accepted it:
//
//   - a process dies (or its drain budget cancels it) after the push
//     service accepted the request and before the push_deliveries row is
//     written: at most Config.Concurrency requests per process death, each
//     delivered at most once more;
//   - a rebalance moves a partition to another member while this member
//     still has an attempt in flight for one of its messages: at most the
//     requests in flight at that moment, once more each;
//   - an attempt times out or its connection breaks after the service had
//     accepted it: the retry delivers it again (the Topic header, when set,
//     makes the second copy replace the first at the push service).
//
// In normal operation (clean stops, rebalances between requests, answers
// within the timeout) no request id is delivered twice. A stop abandons
// requests waiting to retry without recording them: their partition's next
// owner delivers them. The result event is written after the row, so a
// death between the two loses that event (it is not re-sent on replay).
//
// # Not done yet
//
// No metrics export beyond
// Stats (in-flight, counts), so no per-origin latency histogram (latency
// is on every result event, props.latency_ms and props.host).
package sender
