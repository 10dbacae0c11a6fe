package devstack

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalidConfig wraps every configuration problem.
	ErrInvalidConfig = errors.New("invalid dev stack config")
	// ErrMissingTool means a program the stack needs (java, mvn, npm, cc,
	// PostgreSQL) is not installed; the message names the Debian package.
	ErrMissingTool = errors.New("missing tool")
	// ErrPortInUse means a port of the stack answers but no process of this
	// stack owns it.
	ErrPortInUse = errors.New("port already in use")
	// ErrNotReady means a service did not become ready in time or exited
	// while starting; the message names the log file to read.
	ErrNotReady = errors.New("service not ready")
	// ErrUnknownService is returned for a service name the stack does not have.
	ErrUnknownService = errors.New("unknown service")
)
