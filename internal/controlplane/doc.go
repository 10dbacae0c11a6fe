// Package controlplane reads and writes the Postgres control plane: sites,
// their keys and settings. It is the one place that knows how secrets are
// stored (API keys hashed, VAPID private keys sealed with the master key).
// It enforces no HTTP policy; the services decide who may call it.
package controlplane
