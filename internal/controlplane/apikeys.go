package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Scopes of an API key.
const (
	ScopeRead  = "read"  // reads everything of its site
	ScopeWrite = "write" // also changes segments, automations, campaigns and delivery settings
)

// APIKey is a site's API key without its secret.
type APIKey struct {
	ID        string
	SiteID    string
	Name      string
	Prefix    string // the first characters of the key, to recognise it
	Scope     string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key works
}

const apiKeyColumns = `id::text, site_id::text, name, prefix, scope, created_at, revoked_at`

func scanAPIKey(row pgx.Row) (APIKey, error) {
	var k APIKey
	var revoked *time.Time
	if err := row.Scan(&k.ID, &k.SiteID, &k.Name, &k.Prefix, &k.Scope, &k.CreatedAt, &revoked); err != nil {
		return APIKey{}, err
	}
	if revoked != nil {
		k.RevokedAt = *revoked
	}
	return k, nil
}

// APIKeyByToken returns the unrevoked key whose secret is token, or ErrNotFound.
func (s *Store) APIKeyByToken(ctx context.Context, token string) (APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE key_hash = $1 AND revoked_at IS NULL`, HashAPIKey(token)))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, fmt.Errorf("api key: %w", ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("api key: %w", err)
	}
	return k, nil
}

// CreateAPIKey makes a key of the site with a scope; the secret is returned
// once, only its hash is kept.
func (s *Store) CreateAPIKey(ctx context.Context, siteID, name, scope string) (APIKey, string, error) {
	siteID = dbUUID(siteID)
	secret := randomToken("ppk_", 32)
	k, err := scanAPIKey(s.db.QueryRow(ctx, `INSERT INTO api_keys (site_id, name, prefix, key_hash, scope)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+apiKeyColumns, siteID, name, secret[:8], HashAPIKey(secret), scope))
	if err != nil {
		return APIKey{}, "", fmt.Errorf("create api key: %w", err)
	}
	return k, secret, nil
}

// APIKeys lists a site's keys, revoked ones too, newest first.
func (s *Store) APIKeys(ctx context.Context, siteID string) ([]APIKey, error) {
	siteID = dbUUID(siteID)
	rows, err := s.db.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE site_id = $1::uuid
		ORDER BY created_at DESC, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIKey, error) { return scanAPIKey(row) })
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey stops a key of the site from working; revoking a revoked key
// changes nothing. A key of another site is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, siteID, id string) (APIKey, error) {
	siteID = dbUUID(siteID)
	id = dbUUID(id)
	k, err := scanAPIKey(s.db.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
		WHERE site_id = $1::uuid AND id = $2::uuid RETURNING `+apiKeyColumns, siteID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, fmt.Errorf("revoke api key: %w", ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke api key: %w", err)
	}
	return k, nil
}
