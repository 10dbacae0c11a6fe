// Package segments will hold the segment rule language: parse and validate,
// incremental (streaming) evaluation, compilation to ClickHouse SQL, and
// explain. Pure code, no I/O; it imports only package schemas.
//
// Not built yet: this package is a placeholder for a later issue.
package segments
