package spool

import "errors"

// Errors of the spool.
var (
	// ErrFull: the records would take the spool past its byte cap; nothing was written.
	ErrFull = errors.New("spool is full")
	// ErrClosed: the spool was closed.
	ErrClosed = errors.New("spool is closed")
	// ErrLocked: another process holds the spool directory.
	ErrLocked = errors.New("spool directory is in use by another process")
	// ErrTooLarge: one record is larger than MaxRecordBytes.
	ErrTooLarge = errors.New("record is larger than the spool allows")
	// ErrCorrupt: a record read back does not match its checksum (the file
	// changed under the spool after it was opened).
	ErrCorrupt = errors.New("spool record is corrupt")
	// ErrNotHead: Ack was given a batch that does not start at the head.
	ErrNotHead = errors.New("batch does not start at the head of the spool")
)
