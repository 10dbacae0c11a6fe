// Package controlplane reads and writes the Postgres control plane: sites,
// their keys and settings, accounts, sessions, memberships, invitations and
// the audit log. It is the one place that knows how secrets are stored (API
// keys and session, invitation and reset tokens as SHA-256 hashes,
// passwords as argon2id, VAPID private keys sealed with the master key).
// It enforces no HTTP policy; the services decide who may call it.
package controlplane
