package browser

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
)

// summaryPath is where TestMain writes the one-line summary; `make
// test-browser` prints it last, after go test's own lines.
var summaryPath = flag.String("summary", "", "file to write the `browser: passed=P failed=F sdk_gzip_bytes=B` line to")

// tally counts the scenarios that ran and the size of the served SDK.
type tally struct {
	mu             sync.Mutex
	passed, failed int
	sdkGzipBytes   int
}

var results tally

// scenario marks t as one scenario of the summary: its outcome is counted
// when it ends (skipped scenarios are not counted).
func scenario(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		results.mu.Lock()
		defer results.mu.Unlock()
		switch {
		case t.Failed():
			results.failed++
		case !t.Skipped():
			results.passed++
		}
	})
}

func (r *tally) setSDKGzipBytes(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sdkGzipBytes = n
}

// line is the summary. A failure outside every scenario (setup, a panic, a
// build error of the binary) counts as one failed, so that the line never
// says failed=0 for a run that failed.
func (r *tally) line(code int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	failed := r.failed
	if code != 0 && failed == 0 {
		failed = 1
	}
	return fmt.Sprintf("browser: passed=%d failed=%d sdk_gzip_bytes=%d", r.passed, failed, r.sdkGzipBytes)
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	line := results.line(code)
	fmt.Println(line)
	if *summaryPath != "" {
		if err := os.WriteFile(*summaryPath, []byte(line+"\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "browser: write summary: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
