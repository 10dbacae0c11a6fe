// Package sender will deliver push requests from the push-requests topic with
// Web Push and VAPID (webpush-go): per-site keys, TTL/urgency/topic, retries
// on retryable failures only, expired-subscription handling, idempotency.
//
// Not built yet: this package is a placeholder for a later issue.
package sender
