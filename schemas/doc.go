// Package schemas holds Pushpipe's contracts: the event envelope and event
// types, Kafka topic names, the beacon format and its JSON schema, and the
// ClickHouse and Postgres migrations (embedded).
//
// Every other package imports it; it imports nothing of Pushpipe's. It does no
// I/O: the migration runner lives in internal/migrate.
package schemas
