// Package spool is ingest's disk buffer for events Kafka did not take: an
// append-only log of opaque records in numbered segment files under one
// directory, bounded in bytes, read back in the order written by a single
// consumer that acknowledges what it has delivered.
//
// A record on disk is a 4-byte little-endian payload length, a CRC32C
// (Castagnoli) of the length bytes and the payload, then the payload.
// Append returns only after its records were written and fsync'd; concurrent
// Appends share one write and one fsync (group commit), so a busy spool
// costs one fsync per group, not per caller. When the records would take the
// spool past Options.MaxBytes, Append fails with ErrFull and writes nothing.
//
// Read returns the oldest records not yet acknowledged; Ack marks them
// delivered, and a segment file is deleted once every record in it was
// acknowledged (so after a crash the unacknowledged part of the head
// segment, and possibly some acknowledged records of it, are read again:
// at least once). Open recovers a directory left by an earlier process:
// a record whose length or checksum does not hold (a write torn by a crash)
// is cut off with everything after it in that segment, with a log line,
// never returned as data. The directory is locked (flock) while open, so two
// processes never share a spool.
//
// It does not: know what a record means, retry, talk to Kafka, or encrypt.
// Read and Ack are for one consumer goroutine; Append is safe for any number.
package spool
