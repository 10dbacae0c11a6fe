// Package enrich derives what ingest adds to an event beyond what the browser
// sent: corrected event time (clock skew), device from the user agent,
// language, the client's IP address behind trusted proxies, its location from
// a MaxMind GeoIP2/GeoLite2 City database, and the anonymised IP.
//
// Each piece is a small pure function or a read-only value safe for concurrent
// use; the HTTP handler composes them. It knows nothing of HTTP or Kafka.
package enrich
