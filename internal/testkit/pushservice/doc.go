// Package pushservice is a test push service: an HTTP server that behaves
// like the push services browsers subscribe to (FCM, Mozilla autopush,
// Apple), for testing a Web Push sender without the internet.
//
// For each POST to a subscription's endpoint it does what a push service
// does, and what the subscribed browser would do with the message:
//
//   - verifies the VAPID Authorization header (RFC 8292): "vapid t=JWT,
//     k=KEY", an ES256 signature by KEY, aud equal to the origin the client
//     addressed, exp in the future and at most 24 h ahead, sub a mailto:
//     address or an https: URL; 401 otherwise, or 403 when the
//     subscription is bound to another application server key;
//   - requires TTL and checks Urgency and Topic (RFC 8030); 400 otherwise;
//   - answers 413 to a body over 4096 bytes (Options.MaxBody);
//   - decrypts the aes128gcm body (RFC 8188, RFC 8291) with the
//     subscription's private key, any record size, padding removed; a body
//     that does not decrypt is answered 400 (a real service would accept it
//     and the browser would drop it: here the sender hears of it);
//   - records the request (Received, All, Counts, WaitReceived) and answers
//     as the subscription's Behaviour scripts: a status, Retry-After, a
//     delay, or a hang until the client gives up; 201 with Location by default.
//
// Subscriptions are created in process with NewSubscription (the keys a
// browser's PushSubscription gives), or over HTTP by the control API (see
// routeControl) when the service runs as `pushpipe dev pushservice`.
//
// It does not deliver messages anywhere, keep them for TTL, implement
// Topic replacement or receipts, or speak HTTP/2 push to user agents.
// State lives in memory only.
package pushservice
