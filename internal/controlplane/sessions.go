package controlplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a logged-in web session of an account.
type Session struct {
	AccountID string
	Email     string
	CSRFToken string // sent back by the page on every unsafe request
	ExpiresAt time.Time
}

// NewSession is a created session with its token, shown exactly once (it
// goes into the cookie; only its hash is stored).
type NewSession struct {
	Session
	Token string
}

// CreateSession starts a session of the account that ends after ttl.
func (s *Store) CreateSession(ctx context.Context, accountID string, ttl time.Duration) (NewSession, error) {
	out := NewSession{Token: randomToken("ppsess_", 32)}
	out.CSRFToken = randomToken("", 32)
	err := s.db.QueryRow(ctx, `WITH ins AS (
			INSERT INTO sessions (token_hash, account_id, csrf_token, expires_at)
			VALUES ($1, $2, $3, now() + $4::interval) RETURNING account_id, expires_at)
		SELECT a.id::text, a.email, ins.expires_at FROM ins JOIN accounts a ON a.id = ins.account_id`,
		HashAPIKey(out.Token), accountID, out.CSRFToken, ttl.String()).Scan(&out.AccountID, &out.Email, &out.ExpiresAt)
	if err != nil {
		return NewSession{}, fmt.Errorf("create session: %w", err)
	}
	return out, nil
}

// SessionByToken returns the unexpired session of a token, or ErrNotFound.
func (s *Store) SessionByToken(ctx context.Context, token string) (Session, error) {
	var out Session
	err := s.db.QueryRow(ctx, `SELECT a.id::text, a.email, s.csrf_token, s.expires_at
		FROM sessions s JOIN accounts a ON a.id = s.account_id
		WHERE s.token_hash = $1 AND s.expires_at > now()`, HashAPIKey(token)).
		Scan(&out.AccountID, &out.Email, &out.CSRFToken, &out.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	return out, nil
}

// DeleteSession ends a session (log-out); an unknown token is no error.
// Expired sessions of every account are removed on the way.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1 OR expires_at < now() - interval '1 day'`,
		HashAPIKey(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
