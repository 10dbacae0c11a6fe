package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// chaosRoles are the role processes the run supervises.
var chaosRoles = []string{"ingest", "stream", "sender", "api"}

// supervise acts as the service manager a deployment has: a role process
// that exits by itself (not killed by the run) is reported, with the last
// line of its log, and started again, so one product failure does not
// stall every later kill. Each such exit is a finding of the run.
func (run *chaosRun) supervise(ctx context.Context) {
	for sleep(ctx, time.Second) == nil {
		for _, role := range chaosRoles {
			run.mu.Lock()
			killing := run.killing == role
			run.mu.Unlock()
			if killing {
				continue
			}
			g, err := run.roleGroup(role)
			if err != nil || g.Restart(ctx, role) != nil { // Restart refuses a child still running
				continue
			}
			exit := fmt.Sprintf("%s exited by itself at %s and was started again (last log line: %s)",
				role, time.Now().UTC().Format("15:04:05"), lastLine(filepath.Join(run.flags.logDir, "e2e-automations-"+role+".log")))
			run.mu.Lock()
			run.exits = append(run.exits, exit)
			run.mu.Unlock()
			run.say("PRODUCT: %s", exit)
		}
	}
}

// lastLine returns the last non-empty line of a log file (at most 400 bytes of it).
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = f.Close() }()
	if info, err := f.Stat(); err == nil && info.Size() > 4096 {
		_, _ = f.Seek(info.Size()-4096, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	last := lines[len(lines)-1]
	if len(last) > 400 {
		last = last[:400] + "…"
	}
	return last
}
