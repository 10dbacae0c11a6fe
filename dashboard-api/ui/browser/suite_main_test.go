package browser

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
)

var (
	// summaryPath is where TestMain writes the one-line summary.
	summaryPath = flag.String("summary", "", "file to write the `dashboard-browser: passed=P failed=F screenshots=S` line to")
	// screenshotRoot is the folder under which each run saves its PNGs in a folder of its own.
	screenshotRoot = flag.String("screenshots", "", "folder for the screenshots (default: <repo>/.dev/screenshots)")
)

// tally counts the scenarios that ran and the screenshots saved.
type tally struct {
	mu                          sync.Mutex
	passed, failed, screenshots int
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

func (r *tally) addScreenshot() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.screenshots++
}

func (r *tally) shots() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.screenshots
}

// line is the summary. A failure outside every scenario (setup, a build
// error of the binary) counts as one failed, so that the line never says
// failed=0 for a run that failed.
func (r *tally) line(code int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	failed := r.failed
	if code != 0 && failed == 0 {
		failed = 1
	}
	return fmt.Sprintf("dashboard-browser: passed=%d failed=%d screenshots=%d", r.passed, failed, r.screenshots)
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	line := results.line(code)
	fmt.Println(line)
	if *summaryPath != "" {
		if err := os.WriteFile(*summaryPath, []byte(line+"\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "dashboard-browser: write summary: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
