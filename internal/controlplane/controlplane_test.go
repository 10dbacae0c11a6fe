package controlplane

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
)

func newKey(t *testing.T) *MasterKey {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	k, err := ParseMasterKey(base64.StdEncoding.EncodeToString(raw))
	require.NoError(t, err)
	return k
}

func TestMasterKeySealsBoundToOwner(t *testing.T) {
	k := newKey(t)
	sealed := k.Seal([]byte("secret"), []byte("site-a"))
	require.NotContains(t, string(sealed), "secret")
	plain, err := k.Open(sealed, []byte("site-a"))
	require.NoError(t, err)
	require.Equal(t, "secret", string(plain))
	_, err = k.Open(sealed, []byte("site-b"))
	require.Error(t, err, "a sealed secret cannot be moved to another owner")
	_, err = newKey(t).Open(sealed, []byte("site-a"))
	require.Error(t, err, "another master key cannot open it")

	for _, bad := range []string{"", "short", base64.StdEncoding.EncodeToString(make([]byte, 16))} {
		_, err := ParseMasterKey(bad)
		require.ErrorIs(t, err, ErrMasterKey)
	}
}

func TestVAPIDKeysArePointAndScalar(t *testing.T) {
	keys, err := NewVAPIDKeys()
	require.NoError(t, err)
	pub, err := base64.RawURLEncoding.DecodeString(keys.Public)
	require.NoError(t, err)
	require.Len(t, pub, 65, "uncompressed P-256 point")
	require.Equal(t, byte(4), pub[0])
	priv, err := base64.RawURLEncoding.DecodeString(keys.Private)
	require.NoError(t, err)
	k, err := ecdh.P256().NewPrivateKey(priv)
	require.NoError(t, err)
	require.Equal(t, pub, k.PublicKey().Bytes(), "the public key belongs to the private key")
}

func TestStoreAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	db, _ := testdb.Open(t)

	key := newKey(t)
	s := NewStore(db, key)
	created, err := s.CreateSite(ctx, NewSite{Name: "shop", AllowedOrigins: []string{"https://shop.example"}, Contact: "mailto:ops@shop.example", AnonymizeIP: true})
	require.NoError(t, err)
	require.NotEmpty(t, created.ID)

	got, err := s.SiteByKey(ctx, created.SiteKey)
	require.NoError(t, err)
	require.Equal(t, created.ID, got.ID)
	require.Equal(t, []string{"https://shop.example"}, got.AllowedOrigins)

	id, err := s.SiteIDByAPIKey(ctx, created.APIKey)
	require.NoError(t, err)
	require.Equal(t, created.ID, id)
	_, err = s.SiteIDByAPIKey(ctx, created.APIKey+"x")
	require.ErrorIs(t, err, ErrNotFound)

	// The API key is stored only as a hash, the VAPID private key only sealed.
	var stored []byte
	require.NoError(t, db.QueryRow(ctx, `SELECT key_hash FROM api_keys WHERE site_id = $1`, created.ID).Scan(&stored))
	require.Equal(t, HashAPIKey(created.APIKey), stored)
	require.NoError(t, db.QueryRow(ctx, `SELECT vapid_private_key_enc FROM sites WHERE id = $1`, created.ID).Scan(&stored))
	priv, err := s.VAPIDPrivateKey(ctx, created.ID)
	require.NoError(t, err)
	require.NotContains(t, string(stored), priv)

	_, err = db.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE site_id = $1`, created.ID)
	require.NoError(t, err)
	_, err = s.SiteIDByAPIKey(ctx, created.APIKey)
	require.ErrorIs(t, err, ErrNotFound, "a revoked key no longer authenticates")

	_, err = s.SiteByKey(ctx, "pps_unknown")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = NewStore(db, nil).CreateSite(ctx, NewSite{Name: "x", Contact: "mailto:a@b.c"})
	require.ErrorIs(t, err, ErrMasterKey)
}
