package controlplane

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAPIKeysAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	s, sites := newSiteStore(t, "a", "b")
	a, b := sites[0], sites[1]

	keys, err := s.APIKeys(ctx, a)
	require.NoError(t, err)
	require.Len(t, keys, 1, "a new site has its default key")
	require.Equal(t, ScopeWrite, keys[0].Scope, "which has the write scope")

	k, secret, err := s.CreateAPIKey(ctx, a, "reporting", ScopeRead)
	require.NoError(t, err)
	require.Equal(t, secret[:8], k.Prefix)
	got, err := s.APIKeyByToken(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, APIKey{ID: k.ID, SiteID: a, Name: "reporting", Prefix: k.Prefix, Scope: ScopeRead, CreatedAt: got.CreatedAt}, got)

	_, err = s.RevokeAPIKey(ctx, b, k.ID)
	require.ErrorIs(t, err, ErrNotFound, "a key of another site")
	_, err = s.APIKeyByToken(ctx, secret)
	require.NoError(t, err, "still works")

	revoked, err := s.RevokeAPIKey(ctx, a, k.ID)
	require.NoError(t, err)
	require.False(t, revoked.RevokedAt.IsZero())
	_, err = s.APIKeyByToken(ctx, secret)
	require.ErrorIs(t, err, ErrNotFound, "a revoked key no longer authenticates")
	again, err := s.RevokeAPIKey(ctx, a, k.ID)
	require.NoError(t, err)
	require.Equal(t, revoked.RevokedAt, again.RevokedAt, "revoking twice keeps the first time")

	keys, err = s.APIKeys(ctx, a)
	require.NoError(t, err)
	require.Len(t, keys, 2, "revoked keys are listed")
	_, err = s.RevokeAPIKey(ctx, a, "not-a-uuid")
	require.ErrorIs(t, err, ErrNotFound)
}
