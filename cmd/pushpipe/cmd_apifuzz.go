package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/procs"
)

// apiFuzzFlags are the knobs of `pushpipe api-fuzz`.
type apiFuzzFlags struct {
	schemathesis string
	dir          string
	logDir       string
	examples     int
	workers      int
	seed         int64
}

func parseAPIFuzzFlags(args []string, stderr io.Writer) (apiFuzzFlags, error) {
	var f apiFuzzFlags
	fs := flag.NewFlagSet("api-fuzz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.schemathesis, "schemathesis", ".dev/venv/bin/schemathesis", "the schemathesis executable")
	fs.StringVar(&f.dir, "dir", ".dev/api-fuzz", "folder for the generated schemathesis.toml files and the reports")
	fs.StringVar(&f.logDir, "logs", ".dev/logs", "folder for the api role's log")
	fs.IntVar(&f.examples, "examples", 12, "generated cases per operation and phase")
	// One worker by default: hypothesis parses lambdas' source with ast, which
	// CPython 3.11 does not do safely from several threads at once (SystemError
	// "AST constructor recursion depth mismatch" on a random operation).
	fs.IntVar(&f.workers, "workers", 1, "concurrent schemathesis workers")
	fs.Int64Var(&f.seed, "seed", time.Now().UnixNano()%1_000_000, "schemathesis random seed (printed, to replay a run)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.examples < 1 || f.workers < 1 {
		return f, errors.New("-examples and -workers must be at least 1")
	}
	return f, nil
}

// cmdAPIFuzz runs schemathesis against the dashboard API's served OpenAPI
// document: a scratch site owned by a fresh account, the api role as a
// child process on a free port, then one pass with a write API key and one
// with the owner's web session. The last line is `api-fuzz: operations=N
// cases=C server_errors=E spec_violations=V`; it exits 1 when E or V > 0.
func cmdAPIFuzz(ctx context.Context, e *env, args []string) int {
	f, err := parseAPIFuzzFlags(args, e.stderr)
	if err != nil {
		return 2
	}
	r := config.NewReader(e.getenv)
	c := loadCommon(r)
	if !finish(r, e, "api-fuzz") {
		return 2
	}
	res, err := apiFuzz(ctx, e, c, f)
	if err != nil {
		return fail(e, "api-fuzz", err)
	}
	if res.errors > 0 {
		fmt.Fprintf(e.stderr, "api-fuzz: schemathesis failed %d times without a finding about the API (see above): the run is not clean\n", res.errors)
	}
	fmt.Fprintln(e.stdout, res.String())
	if !res.ok() {
		return 1
	}
	return 0
}

func apiFuzz(ctx context.Context, e *env, c common, f apiFuzzFlags) (fuzzResult, error) {
	if _, err := os.Stat(f.schemathesis); err != nil {
		return fuzzResult{}, fmt.Errorf("schemathesis not found at %s (make api-fuzz installs it): %w", f.schemathesis, err)
	}
	fx, err := setupFuzzAccounts(ctx, c, e.stderr)
	if err != nil {
		return fuzzResult{}, err
	}
	ports, err := procs.FreePorts(1)
	if err != nil {
		return fuzzResult{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	base := "http://" + addr
	// No rate limits: the run would otherwise test mostly the 429 answer.
	roles, err := startRoles(ctx, f.logDir, "api-fuzz-", []string{
		"PUSHPIPE_API_ADDR=" + addr, "PUSHPIPE_API_RATE_PER_MINUTE=0", "PUSHPIPE_API_AUTH_RATE_PER_MINUTE=0",
		"PUSHPIPE_API_INSECURE_COOKIES=true", "PUSHPIPE_API_PUBLIC_URL=" + base,
	}, "api")
	if err != nil {
		return fuzzResult{}, err
	}
	defer roles.StopAll(10 * time.Second)
	if err := procs.WaitHTTP(ctx, base+"/healthz", 30*time.Second); err != nil {
		return fuzzResult{}, fmt.Errorf("%w (see %s)", err, filepath.Join(f.logDir, "api-fuzz-api.log"))
	}
	if err := createFuzzResources(ctx, base, &fx); err != nil {
		return fuzzResult{}, err
	}
	fmt.Fprintf(e.stderr, "api-fuzz: site %s, api %s, seed %d, %d examples per operation; api log %s\n",
		fx.SiteID, base, f.seed, f.examples, filepath.Join(f.logDir, "api-fuzz-api.log"))
	var total fuzzResult
	for _, pass := range fuzzPasses(fx) {
		res, err := runFuzzPass(ctx, e, f, base, fx, pass)
		if err != nil {
			return fuzzResult{}, err
		}
		for _, fl := range res.failures {
			fmt.Fprintf(e.stderr, "api-fuzz: %s pass: %s\n", pass.Name, fl)
		}
		fmt.Fprintf(e.stderr, "api-fuzz: %s pass: operations=%d cases=%d server_errors=%d spec_violations=%d\n",
			pass.Name, len(res.operations), res.cases, res.serverErrors, res.specViolations)
		total = total.add(res)
	}
	return total, nil
}

// runFuzzPass writes the pass's schemathesis.toml, runs schemathesis with
// its output in schemathesis.log (the tail on stderr when the pass is not
// clean), and counts the run from its NDJSON report.
func runFuzzPass(ctx context.Context, e *env, f apiFuzzFlags, base string, fx fuzzFixture, pass fuzzPass) (fuzzResult, error) {
	dir, err := filepath.Abs(filepath.Join(f.dir, pass.Name))
	if err != nil {
		return fuzzResult{}, fmt.Errorf("resolve %s: %w", f.dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fuzzResult{}, fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil { // the file holds a key and a session
		return fuzzResult{}, fmt.Errorf("create %s: %w", dir, err)
	}
	cfgPath := filepath.Join(dir, "schemathesis.toml")
	params := fuzzTOMLParams{
		BaseURL: base, ReportDir: dir, CacheDir: filepath.Join(filepath.Dir(dir), "cache"),
		Examples: f.examples, Workers: f.workers, Seed: f.seed,
	}
	toml := renderFuzzTOML(params, fx, pass)
	if err := os.WriteFile(cfgPath, []byte(toml), 0o600); err != nil {
		return fuzzResult{}, fmt.Errorf("write %s: %w", cfgPath, err)
	}
	logPath := filepath.Join(dir, "schemathesis.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fuzzResult{}, fmt.Errorf("create %s: %w", logPath, err)
	}
	defer func() { _ = logFile.Close() }()
	fmt.Fprintf(e.stderr, "api-fuzz: %s pass (config %s, output %s)\n", pass.Name, cfgPath, logPath)
	args := []string{"--no-color", "--config-file", cfgPath, "run", base + "/openapi.yaml"}
	if pass.TagRegex != "" {
		args = append(args, "--include-tag-regex", pass.TagRegex)
	}
	cmd := exec.CommandContext(ctx, f.schemathesis, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "SCHEMATHESIS_HOOKS=", "PYTHONUNBUFFERED=1")
	runErr := cmd.Run()
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return fuzzResult{}, fmt.Errorf("run schemathesis: %w", runErr)
	}
	res, err := readFuzzReport(dir)
	if err != nil {
		return fuzzResult{}, err
	}
	if runErr != nil && res.ok() {
		res.errors++ // schemathesis failed without a failing check nor a reported error
		res.failures = append(res.failures, "[schemathesis] exited with "+runErr.Error())
	}
	if !res.ok() {
		printTail(e.stderr, logPath, 200) // the failures with their reproducing curl commands
	}
	return res, nil
}

// printTail copies the last n lines of a file to w.
func printTail(w io.Writer, path string, n int) {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(w, "api-fuzz: %v\n", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
