package controlplane

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/argon2"
)

// Account errors.
var (
	// ErrEmailTaken means an account with that e-mail address exists.
	ErrEmailTaken = errors.New("an account with this e-mail address exists")
	// ErrBadCredentials means the e-mail address or the password is wrong;
	// which one is not told.
	ErrBadCredentials = errors.New("wrong e-mail address or password")
	// ErrTokenInvalid means a one-time token (password reset, invitation) is
	// unknown, expired or used.
	ErrTokenInvalid = errors.New("unknown, expired or used token")
)

// Account is a person who logs in to the dashboard.
type Account struct {
	ID        string
	Email     string
	CreatedAt time.Time
}

// argon2id parameters of new hashes (RFC 9106, second recommended option);
// each hash records its own, so they can change without breaking old ones.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 4
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword returns the argon2id PHC string of password.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	sum := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

// CheckPassword reports whether password matches the PHC string encoded.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || mem > 1<<20 || iter > 16 || threads == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iter, mem, threads, uint32(len(want))) //nolint:gosec // len(want) is small
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is compared against when no account has the e-mail address, so
// a login takes as long for an unknown address as for a wrong password. It
// has the parameters of new hashes; no password matches it.
const dummyHash = "$argon2id$v=19$m=65536,t=3,p=4$cHVzaHBpcGUtZHVtbXk$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// NormalizeEmail trims and lower-cases an e-mail address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateAccount stores a new account with its password hashed.
func (s *Store) CreateAccount(ctx context.Context, email, password string) (Account, error) {
	var a Account
	err := s.db.QueryRow(ctx, `INSERT INTO accounts (email, password_hash) VALUES ($1, $2)
		RETURNING id::text, email, created_at`, NormalizeEmail(email), HashPassword(password)).Scan(&a.ID, &a.Email, &a.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Account{}, fmt.Errorf("create account: %w", ErrEmailTaken)
	}
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	return a, nil
}

// Authenticate returns the account whose e-mail address and password match.
func (s *Store) Authenticate(ctx context.Context, email, password string) (Account, error) {
	var a Account
	var hash string
	err := s.db.QueryRow(ctx, `SELECT id::text, email, created_at, password_hash FROM accounts WHERE lower(email) = $1`,
		NormalizeEmail(email)).Scan(&a.ID, &a.Email, &a.CreatedAt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return Account{}, fmt.Errorf("log in: %w", ErrBadCredentials)
	}
	if err != nil {
		return Account{}, fmt.Errorf("log in: %w", err)
	}
	if !CheckPassword(hash, password) {
		return Account{}, fmt.Errorf("log in: %w", ErrBadCredentials)
	}
	return a, nil
}

// AccountByID finds an account.
func (s *Store) AccountByID(ctx context.Context, id string) (Account, error) {
	id = dbUUID(id)
	var a Account
	err := s.db.QueryRow(ctx, `SELECT id::text, email, created_at FROM accounts WHERE id = $1::uuid`, id).
		Scan(&a.ID, &a.Email, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, fmt.Errorf("account: %w", ErrNotFound)
	}
	if err != nil {
		return Account{}, fmt.Errorf("account: %w", err)
	}
	return a, nil
}

// RequestPasswordReset makes a one-time reset token for the account with
// that e-mail address, valid for ttl. It returns the token (to be sent to
// the address) and the account, or ErrNotFound.
func (s *Store) RequestPasswordReset(ctx context.Context, email string, ttl time.Duration) (string, Account, error) {
	var a Account
	err := s.db.QueryRow(ctx, `SELECT id::text, email, created_at FROM accounts WHERE lower(email) = $1`,
		NormalizeEmail(email)).Scan(&a.ID, &a.Email, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", Account{}, fmt.Errorf("password reset: %w", ErrNotFound)
	}
	if err != nil {
		return "", Account{}, fmt.Errorf("password reset: %w", err)
	}
	token := randomToken("pprst_", 32)
	if _, err := s.db.Exec(ctx, `INSERT INTO password_resets (token_hash, account_id, expires_at)
		VALUES ($1, $2, now() + $3::interval)`, HashAPIKey(token), a.ID, ttl.String()); err != nil {
		return "", Account{}, fmt.Errorf("password reset: %w", err)
	}
	return token, a, nil
}

// ResetPassword sets a new password with a reset token, once, before it
// expires; every session of the account ends. It returns the account.
func (s *Store) ResetPassword(ctx context.Context, token, password string) (Account, error) {
	var id string
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE password_resets SET used_at = now()
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING account_id::text`,
			HashAPIKey(token)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, id, HashPassword(password)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, id)
		return err
	})
	if err != nil {
		return Account{}, fmt.Errorf("reset password: %w", err)
	}
	return s.AccountByID(ctx, id)
}
