package devstack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

const (
	chdbPackage      = "@chdb/lib-linux-x64-gnu"
	chdbVersion      = "26.7.3-stable.1" // 26.5.x lacks SYSTEM START LISTEN TCP
	chdbLibInTarball = "package/libchdb.so"
	chReadyTimeout   = 60 * time.Second
	// chServeQuery opens the TCP listener, then keeps clickhouse-local busy
	// for ten years so that the process stays up and serves connections.
	chServeQuery = "SYSTEM START LISTEN TCP; " + chSleepQuery
	chSleepQuery = "SELECT sleepEachRow(1) FROM numbers(315360000) SETTINGS max_block_size=1 FORMAT Null"
	// chStopQuery ends the sleeping query; clickhouse-local then shuts down
	// normally, which SIGTERM (no handler in chdb: the process just dies) does not do.
	chStopQuery = "KILL QUERY WHERE query LIKE 'SELECT sleepEachRow(1) FROM numbers(315360000)%' ASYNC"
)

// chLauncherSource is compiled with cc at the first up. It sits in a
// subdirectory because Go refuses C files in a package without cgo.
//
//go:embed chlauncher/chlauncher.c
var chLauncherSource []byte

// clickHouseService runs the ClickHouse engine of chdb (libchdb.so from npm)
// as a TCP server, through a tiny C launcher.
type clickHouseService struct {
	p     progress
	d     daemon
	data  string // <dev>/clickhouse/data
	bin   string // <dev>/bin
	cache string // <cache>/clickhouse
	npm   string // <cache>/npm, removed after the fetch
	addr  string
	port  int
}

func newClickHouse(cfg Config, l layout, p progress) *clickHouseService {
	data := filepath.Join(l.data("clickhouse"), "data")
	c := &clickHouseService{
		p:     p,
		data:  data,
		bin:   l.bin,
		cache: filepath.Join(l.cache, "clickhouse"),
		npm:   filepath.Join(l.cache, "npm"),
		addr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.ClickHousePort)),
		port:  cfg.ClickHousePort,
		d: daemon{
			name:       "clickhouse",
			pidFile:    l.pidFile("clickhouse"),
			logFile:    l.logFile("clickhouse"),
			marker:     "--path=" + data,
			stopSignal: syscall.SIGTERM,
			stopBudget: 10 * time.Second,
			logger:     cfg.Logger,
		},
	}
	c.d.askStop = c.askStop
	return c
}

func (c *clickHouseService) Name() string                   { return "clickhouse" }
func (c *clickHouseService) Status() Status                 { return c.d.status(c.addr) }
func (c *clickHouseService) Down(ctx context.Context) error { return c.d.stop(ctx) }
func (c *clickHouseService) lib() string                    { return filepath.Join(c.cache, "libchdb-"+chdbVersion+".so") }

func (c *clickHouseService) launcher() string { return filepath.Join(c.bin, "chlauncher") }

func (c *clickHouseService) Env() map[string]string {
	return map[string]string{EnvClientClickHouse: "clickhouse://" + c.addr + "/default"}
}

// Up starts the server unless it runs and waits until it answers SELECT 1.
func (c *clickHouseService) Up(ctx context.Context) error {
	if pid, ok := c.d.running(); ok {
		c.p.printf("clickhouse", "already running (pid %d)", pid)
		return c.d.waitReady(ctx, nil, chReadyTimeout, c.probe)
	}
	if err := checkPortsFree("clickhouse", c.addr); err != nil {
		return err
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("%w: the dev ClickHouse (%s) is only wired for linux/amd64, not %s/%s",
			ErrMissingTool, chdbPackage, runtime.GOOS, runtime.GOARCH)
	}
	if err := c.checkTools(); err != nil {
		return err
	}
	if err := c.fetch(ctx); err != nil {
		return err
	}
	if err := c.buildLauncher(ctx); err != nil {
		return err
	}
	if err := os.MkdirAll(c.data, 0o755); err != nil {
		return fmt.Errorf("create clickhouse data dir: %w", err)
	}
	return c.p.step("clickhouse", "starting on "+c.addr, func() error {
		return c.d.startReady(ctx, c.command(ctx), chReadyTimeout, c.probe)
	})
}

// command is the long-running server; it is not cancelled with ctx, as it
// outlives us. Server options go after "--". Errors (with
// their stack traces) go to the log file: clickhouse-local logs nothing by
// default, which leaves a crash unexplained.
func (c *clickHouseService) command(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(context.WithoutCancel(ctx), c.launcher(), c.lib(),
		"--path="+c.data,
		"--log-level=error",
		"--function_sleep_max_microseconds_per_block=0",
		"--query", chServeQuery,
		"--",
		"--tcp_port="+strconv.Itoa(c.port),
		"--listen_host=127.0.0.1",
		"--logger.console=1")
	cmd.Dir = filepath.Dir(c.data)
	return cmd
}

// checkTools fails before any download when npm or cc will be needed and is missing.
func (c *clickHouseService) checkTools() error {
	var errs []error
	if _, err := os.Stat(c.lib()); err != nil {
		_, errNpm := lookTool("npm", "npm")
		errs = append(errs, errNpm)
	}
	if !c.launcherCurrent() {
		_, errCC := lookTool("cc", "gcc")
		errs = append(errs, errCC)
	}
	return errors.Join(errs...)
}

// fetch downloads libchdb.so from npm unless it is cached.
func (c *clickHouseService) fetch(ctx context.Context) error {
	if _, err := os.Stat(c.lib()); err == nil {
		return nil
	}
	npm, err := lookTool("npm", "npm")
	if err != nil {
		return err
	}
	spec := chdbPackage + "@" + chdbVersion
	tgz := ""
	err = c.p.step("clickhouse", "fetching npm "+spec+" (≈170 MB compressed)", func() error {
		tgz, err = c.npmPack(ctx, npm, spec)
		return err
	})
	if err != nil {
		return fmt.Errorf("fetch %s: %w", spec, err)
	}
	err = c.p.step("clickhouse", "extracting libchdb.so (≈560 MB)", func() error { return c.extract(tgz) })
	if err != nil {
		return fmt.Errorf("extract libchdb.so: %w", err)
	}
	return errors.Join(removeIfExists(tgz), os.RemoveAll(filepath.Dir(tgz)), os.RemoveAll(c.npm))
}

// npmPack downloads the package tarball into an empty directory and returns its path.
func (c *clickHouseService) npmPack(ctx context.Context, npm, spec string) (string, error) {
	dir := filepath.Join(c.cache, "pack.tmp")
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("clean %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, npm, "pack", spec, "--cache", c.npm, "--no-fund", "--no-audit", "--loglevel=warn")
	cmd.Dir = dir
	if err := runTool(cmd, c.d.logFile, nil); err != nil {
		return "", err
	}
	matches, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil || len(matches) != 1 {
		return "", fmt.Errorf("npm pack left %d tarballs in %s, want 1", len(matches), dir)
	}
	if info, err := os.Stat(matches[0]); err == nil {
		c.p.printf("clickhouse", "  %s", mb(info.Size()))
	}
	return matches[0], nil
}

// extract copies package/libchdb.so out of the tarball, through a temporary
// file so that an interrupted extraction is not mistaken for a complete one.
func (c *clickHouseService) extract(tgz string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return fmt.Errorf("open tarball: %w", err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read gzip: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s not found in %s", chdbLibInTarball, tgz)
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		if hdr.Name == chdbLibInTarball {
			return writeFileAtomic(c.lib(), tr, 0o755)
		}
	}
}

func writeFileAtomic(path string, r io.Reader, mode os.FileMode) error {
	tmp := path + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("move %s into place: %w", path, err)
	}
	return nil
}

// launcherCurrent reports whether the launcher was built from the embedded source.
func (c *clickHouseService) launcherCurrent() bool {
	built, _ := os.ReadFile(c.launcher() + ".c")
	_, err := os.Stat(c.launcher())
	return err == nil && bytes.Equal(built, chLauncherSource)
}

// buildLauncher compiles the embedded C launcher unless an up-to-date build exists.
func (c *clickHouseService) buildLauncher(ctx context.Context) error {
	if c.launcherCurrent() {
		return nil
	}
	src := c.launcher() + ".c"
	cc, err := lookTool("cc", "gcc")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.bin, 0o755); err != nil {
		return fmt.Errorf("create bin dir: %w", err)
	}
	if err := os.WriteFile(src, chLauncherSource, 0o644); err != nil {
		return fmt.Errorf("write launcher source: %w", err)
	}
	return c.p.step("clickhouse", "compiling the chdb launcher", func() error {
		cmd := exec.CommandContext(ctx, cc, "-O2", "-o", c.launcher(), src, "-ldl")
		if err := runTool(cmd, c.d.logFile, nil); err != nil {
			_ = os.Remove(src) // so that the next up compiles again
			return fmt.Errorf("compile launcher: %w", err)
		}
		return nil
	})
}

func (c *clickHouseService) open() (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{c.addr},
		Auth:        clickhouse.Auth{Database: "default"},
		DialTimeout: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return conn, nil
}

// askStop cancels the query that keeps the server up.
func (c *clickHouseService) askStop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := c.open()
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Exec(ctx, chStopQuery); err != nil {
		return fmt.Errorf("kill the serving query: %w", err)
	}
	return nil
}

// probe checks that the server answers SELECT 1 over the native protocol.
func (c *clickHouseService) probe(ctx context.Context) error {
	conn, err := c.open()
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("select 1: %w", err)
	}
	return nil
}
