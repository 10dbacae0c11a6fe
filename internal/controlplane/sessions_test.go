package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSessionsAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	s, _ := newSiteStore(t)
	acc, err := s.CreateAccount(ctx, newEmail(), "a long password")
	require.NoError(t, err)

	sess, err := s.CreateSession(ctx, acc.ID, time.Hour)
	require.NoError(t, err)
	require.Equal(t, acc.ID, sess.AccountID)
	require.Equal(t, acc.Email, sess.Email)
	require.NotEmpty(t, sess.CSRFToken)
	require.WithinDuration(t, time.Now().Add(time.Hour), sess.ExpiresAt, time.Minute)

	got, err := s.SessionByToken(ctx, sess.Token)
	require.NoError(t, err)
	require.Equal(t, sess.CSRFToken, got.CSRFToken)
	require.Equal(t, acc.ID, got.AccountID)

	var n int
	require.NoError(t, s.db.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE token_hash = $1 AND account_id = $2`,
		HashAPIKey(sess.Token), acc.ID).Scan(&n))
	require.Equal(t, 1, n, "only the hash of the token is stored")

	_, err = s.SessionByToken(ctx, sess.Token+"x")
	require.ErrorIs(t, err, ErrNotFound)

	require.NoError(t, s.DeleteSession(ctx, sess.Token))
	_, err = s.SessionByToken(ctx, sess.Token)
	require.ErrorIs(t, err, ErrNotFound, "logged out")

	expired, err := s.CreateSession(ctx, acc.ID, -time.Second)
	require.NoError(t, err)
	_, err = s.SessionByToken(ctx, expired.Token)
	require.ErrorIs(t, err, ErrNotFound, "an expired session does not authenticate")
}
