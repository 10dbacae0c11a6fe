package controlplane

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// newEmail is a fresh address: accounts are shared across tests.
func newEmail() string { return "u-" + uuid.NewString() + "@test.example" }

func TestPasswordHashIsArgon2idAndSalted(t *testing.T) {
	a, b := HashPassword("correct horse battery"), HashPassword("correct horse battery")
	require.True(t, strings.HasPrefix(a, "$argon2id$v=19$m=65536,t=3,p=4$"), a)
	require.NotEqual(t, a, b, "a fresh salt every time")
	require.NotContains(t, a, "correct horse")
	require.True(t, CheckPassword(a, "correct horse battery"))
	require.True(t, CheckPassword(b, "correct horse battery"))
	require.False(t, CheckPassword(a, "correct horse batterY"))
	for _, bad := range []string{
		"", "plain", "$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", dummyHash,
		"$argon2id$v=19$m=99999999,t=3,p=4$c2FsdA$aGFzaA", "$argon2id$v=18$m=65536,t=3,p=4$c2FsdA$aGFzaA",
	} {
		require.False(t, CheckPassword(bad, "correct horse battery"), bad)
	}
}

func TestAccountsAgainstPostgres(t *testing.T) {
	ctx := context.Background()
	s, _ := newSiteStore(t)
	email := newEmail()
	acc, err := s.CreateAccount(ctx, "  "+strings.ToUpper(email)+" ", "a long password")
	require.NoError(t, err)
	require.Equal(t, email, acc.Email, "addresses are stored trimmed and lower-case")

	_, err = s.CreateAccount(ctx, email, "another password")
	require.ErrorIs(t, err, ErrEmailTaken)

	got, err := s.Authenticate(ctx, strings.ToUpper(email), "a long password")
	require.NoError(t, err)
	require.Equal(t, acc.ID, got.ID)
	_, err = s.Authenticate(ctx, email, "a wrong password")
	require.ErrorIs(t, err, ErrBadCredentials)
	_, err = s.Authenticate(ctx, newEmail(), "a long password")
	require.ErrorIs(t, err, ErrBadCredentials, "an unknown address is the same error")

	var stored string
	require.NoError(t, s.db.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = $1`, acc.ID).Scan(&stored))
	require.True(t, strings.HasPrefix(stored, "$argon2id$"))
}

func TestPasswordResetIsOneTimeAndEndsSessions(t *testing.T) {
	ctx := context.Background()
	s, _ := newSiteStore(t)
	email := newEmail()
	acc, err := s.CreateAccount(ctx, email, "the old password")
	require.NoError(t, err)
	sess, err := s.CreateSession(ctx, acc.ID, time.Hour)
	require.NoError(t, err)

	_, _, err = s.RequestPasswordReset(ctx, newEmail(), time.Hour)
	require.ErrorIs(t, err, ErrNotFound)
	token, who, err := s.RequestPasswordReset(ctx, email, time.Hour)
	require.NoError(t, err)
	require.Equal(t, acc.ID, who.ID)

	var n int
	require.NoError(t, s.db.QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE token_hash = $1`, HashAPIKey(token)).Scan(&n))
	require.Equal(t, 1, n, "only the hash of the token is stored")

	_, err = s.ResetPassword(ctx, token+"x", "the new password")
	require.ErrorIs(t, err, ErrTokenInvalid)
	_, err = s.ResetPassword(ctx, token, "the new password")
	require.NoError(t, err)
	_, err = s.ResetPassword(ctx, token, "a third password")
	require.ErrorIs(t, err, ErrTokenInvalid, "a token works once")

	_, err = s.Authenticate(ctx, email, "the old password")
	require.ErrorIs(t, err, ErrBadCredentials)
	_, err = s.Authenticate(ctx, email, "the new password")
	require.NoError(t, err)
	_, err = s.SessionByToken(ctx, sess.Token)
	require.ErrorIs(t, err, ErrNotFound, "a reset ends every session")

	expired, _, err := s.RequestPasswordReset(ctx, email, -time.Second)
	require.NoError(t, err)
	_, err = s.ResetPassword(ctx, expired, "the newest password")
	require.ErrorIs(t, err, ErrTokenInvalid, "an expired token does not work")
}
