package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	pgUser         = "pushpipe"
	pgDatabase     = "pushpipe"
	pgSystemUser   = "postgres" // created by the Debian package; runs the server when we are root
	pgDefaultRoot  = "/usr/lib/postgresql"
	pgReadyTimeout = 60 * time.Second
	pgDuplicateDB  = "42P04"
)

// postgresService runs a private PostgreSQL cluster from the Debian binaries.
type postgresService struct {
	p      progress
	d      daemon
	devDir string // <dev>
	dir    string // <dev>/postgres
	data   string // <dev>/postgres/data
	sock   string // <dev>/postgres/run: unix socket directory
	addr   string
	port   int
	pgRoot string // where the versioned bin dirs live
}

func newPostgres(cfg Config, l layout, p progress) *postgresService {
	dir := l.data("postgres")
	data := filepath.Join(dir, "data")
	return &postgresService{
		p:      p,
		devDir: l.dir,
		dir:    dir,
		data:   data,
		sock:   filepath.Join(dir, "run"),
		addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.PostgresPort)),
		port:   cfg.PostgresPort,
		pgRoot: pgDefaultRoot,
		d: daemon{
			name:       "postgres",
			pidFile:    l.pidFile("postgres"),
			logFile:    l.logFile("postgres"),
			marker:     data,
			stopSignal: syscall.SIGINT, // "fast" shutdown, as pg_ctl stop -m fast
			stopBudget: 30 * time.Second,
			logger:     cfg.Logger,
		},
	}
}

func (s *postgresService) Name() string                   { return "postgres" }
func (s *postgresService) Status() Status                 { return s.d.status(s.addr) }
func (s *postgresService) Down(ctx context.Context) error { return s.d.stop(ctx) }
func (s *postgresService) Env() map[string]string {
	return map[string]string{EnvClientPostgres: s.url(pgDatabase)}
}

func (s *postgresService) url(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(pgUser), Host: s.addr, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Up starts the cluster unless it runs, waits for it, and creates the database.
func (s *postgresService) Up(ctx context.Context) error {
	if pid, ok := s.d.running(); ok {
		s.p.printf("postgres", "already running (pid %d)", pid)
		if err := s.d.waitReady(ctx, nil, pgReadyTimeout, s.probe); err != nil {
			return err
		}
		return s.ensureDatabase(ctx)
	}
	if err := checkPortsFree("postgres", s.addr); err != nil {
		return err
	}
	bin, err := s.binDir(ctx)
	if err != nil {
		return err
	}
	cred, err := s.credential()
	if err != nil {
		return err
	}
	if err := s.prepare(ctx, bin, cred); err != nil {
		return err
	}
	err = s.p.step("postgres", "starting on "+s.addr, func() error {
		return s.d.startReady(ctx, s.command(ctx, bin, cred), pgReadyTimeout, s.probe)
	})
	if err != nil {
		return err
	}
	return s.ensureDatabase(ctx)
}

// command is the long-running postmaster; it is not cancelled with ctx, as it outlives us.
func (s *postgresService) command(ctx context.Context, bin string, cred *syscall.Credential) *exec.Cmd {
	cmd := exec.CommandContext(context.WithoutCancel(ctx), filepath.Join(bin, "postgres"), "-D", s.data, "-p", strconv.Itoa(s.port),
		"-k", s.sock, "-c", "listen_addresses=127.0.0.1")
	s.asUser(cmd, cred)
	return cmd
}

func (s *postgresService) asUser(cmd *exec.Cmd, cred *syscall.Credential) {
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
}

// binDir returns the newest /usr/lib/postgresql/<version>/bin, installing
// PostgreSQL with apt-get first when it is missing and we are root.
func (s *postgresService) binDir(ctx context.Context) (string, error) {
	if bin, err := newestPostgresBin(s.pgRoot); err == nil {
		return bin, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%w: no PostgreSQL under %s; install PostgreSQL: sudo apt-get install postgresql", ErrMissingTool, s.pgRoot)
	}
	if err := s.install(ctx); err != nil {
		return "", err
	}
	return newestPostgresBin(s.pgRoot)
}

// newestPostgresBin picks the highest version directory that has the three programs.
func newestPostgresBin(root string) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("%w: read %s: %w", ErrMissingTool, root, err)
	}
	var versions []string
	for _, e := range entries {
		if hasPostgresPrograms(filepath.Join(root, e.Name(), "bin")) {
			versions = append(versions, e.Name())
		}
	}
	if len(versions) == 0 {
		return "", fmt.Errorf("%w: no initdb, pg_ctl and postgres under %s/*/bin", ErrMissingTool, root)
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[i], versions[j]) })
	return filepath.Join(root, versions[len(versions)-1], "bin"), nil
}

func hasPostgresPrograms(bin string) bool {
	for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			return false
		}
	}
	return true
}

// versionLess compares dotted numeric versions ("9.6" < "15").
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		if errA != nil || errB != nil {
			return a < b
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

func (s *postgresService) install(ctx context.Context) error {
	if _, err := lookTool("apt-get", "apt"); err != nil {
		return fmt.Errorf("%w: no PostgreSQL under %s and no apt-get to install it", ErrMissingTool, s.pgRoot)
	}
	show := &linePrefixer{p: s.p, svc: "postgres"}
	return s.p.step("postgres", "installing PostgreSQL with apt-get (≈50 MB)", func() error {
		for _, args := range [][]string{
			{"update"},
			{"install", "-y", "--no-install-recommends", "postgresql"},
		} {
			cmd := exec.CommandContext(ctx, "apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if err := runTool(cmd, s.d.logFile, show); err != nil {
				return fmt.Errorf("install postgresql: %w", err)
			}
		}
		return nil
	})
}

// credential returns who runs initdb and postgres: nil (ourselves) unless
// we are root, which PostgreSQL refuses; then the postgres system user.
func (s *postgresService) credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(pgSystemUser)
	if err != nil {
		return nil, fmt.Errorf("%w: running as root, PostgreSQL must run as the %q user, which does not exist (the Debian postgresql package creates it): %w",
			ErrMissingTool, pgSystemUser, err)
	}
	uid, errU := strconv.ParseUint(u.Uid, 10, 32)
	gid, errG := strconv.ParseUint(u.Gid, 10, 32)
	if errU != nil || errG != nil {
		return nil, fmt.Errorf("parse ids of user %s: %w", pgSystemUser, errors.Join(errU, errG))
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepare creates the directories (owned by the server user) and runs
// initdb on first start.
func (s *postgresService) prepare(ctx context.Context, bin string, cred *syscall.Credential) error {
	for _, d := range []string{s.dir, s.sock} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if cred != nil {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("chown %s to %s: %w", d, pgSystemUser, err)
			}
		}
	}
	if cred != nil {
		if err := allowSearch(s.devDir); err != nil {
			return err
		}
		if err := checkTraversable(s.sock, cred.Uid, cred.Gid); err != nil {
			return err
		}
	}
	if _, err := os.Stat(s.initializedMarker()); err == nil {
		return nil
	}
	return s.p.step("postgres", "initializing the cluster (first start)", func() error { return s.initdb(ctx, bin, cred) })
}

func (s *postgresService) initializedMarker() string { return filepath.Join(s.dir, "initialized") }

// initdb creates the cluster; a leftover of an interrupted initdb is removed first.
func (s *postgresService) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	if err := os.RemoveAll(s.data); err != nil {
		return fmt.Errorf("remove partial cluster: %w", err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", s.data,
		"--auth=trust", "--username="+pgUser, "--encoding=UTF8", "--locale=C.UTF-8")
	s.asUser(cmd, cred)
	if err := runTool(cmd, s.d.logFile, nil); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	if err := os.WriteFile(s.initializedMarker(), []byte(bin+"\n"), 0o644); err != nil {
		return fmt.Errorf("mark cluster initialized: %w", err)
	}
	return nil
}

// allowSearch adds o+x to the dev dir (a umask of 077 makes it 0700), so
// that the server user can reach its directories below it; it lists nothing.
func allowSearch(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat %s: %w", dir, err)
	}
	if info.Mode().Perm()&0o001 != 0 {
		return nil
	}
	if err := os.Chmod(dir, info.Mode().Perm()|0o001); err != nil {
		return fmt.Errorf("let the %s user enter %s: %w", pgSystemUser, dir, err)
	}
	return nil
}

// checkTraversable checks that uid/gid may enter every directory down to
// path, which a server user needs and a 0700 parent forbids.
func checkTraversable(path string, uid, gid uint32) error {
	for dir := path; ; dir = filepath.Dir(dir) {
		var st syscall.Stat_t
		if err := syscall.Stat(dir, &st); err != nil {
			return fmt.Errorf("stat %s: %w", dir, err)
		}
		bit := uint32(0o001)
		switch {
		case st.Uid == uid:
			bit = 0o100
		case st.Gid == gid:
			bit = 0o010
		}
		if st.Mode&bit == 0 {
			return fmt.Errorf("the %s user cannot enter %s (mode %o): run chmod o+x %s, or set %s to a directory it can reach",
				pgSystemUser, dir, st.Mode&0o777, dir, EnvDir)
		}
		if dir == filepath.Dir(dir) {
			return nil
		}
	}
}

// probe checks that the server answers SELECT 1.
func (s *postgresService) probe(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("select 1: %w", err)
	}
	return nil
}

// ensureDatabase creates the pushpipe database unless it exists.
func (s *postgresService) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", pgDatabase).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", pgDatabase, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{pgDatabase}.Sanitize())
	if err != nil && !isDuplicateDatabase(err) {
		return fmt.Errorf("create database %s: %w", pgDatabase, err)
	}
	s.p.printf("postgres", "created database %s", pgDatabase)
	return nil
}

// isDuplicateDatabase reports a CREATE DATABASE that lost a race with another up.
func isDuplicateDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgDuplicateDB
}
