package devstack

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// ErrNotRunning is returned by Kill when no process of the stack runs for the service.
var ErrNotRunning = errors.New("service not running")

// killWait is how long Kill waits for the killed processes to be gone.
const killWait = 10 * time.Second

// Kill crashes the service called name: SIGKILL to its whole process group
// (the Kafka JVM; the ClickHouse launcher and the engine it supervises; the
// Postgres postmaster and its backends), as a machine losing the process
// would. It waits until the process is gone and leaves the pid file, data
// and log as they are, so Up starts it again from the same data directory
// (Kafka replays its log, Postgres runs crash recovery). It returns the pid
// it killed.
func (s *Stack) Kill(name string) (int, error) {
	svc, err := s.Service(name)
	if err != nil {
		return 0, err
	}
	h, ok := svc.(interface{ process() daemon })
	if !ok {
		return 0, fmt.Errorf("kill %s: %w: not a process of this stack", name, ErrUnknownService)
	}
	return h.process().kill()
}

func (k *kafkaService) process() daemon      { return k.d }
func (c *clickHouseService) process() daemon { return c.d }
func (s *postgresService) process() daemon   { return s.d }

// kill sends SIGKILL to the process group of our running process and
// waits until the process is gone.
func (d daemon) kill() (int, error) {
	pid, ok := d.running()
	if !ok {
		return 0, fmt.Errorf("kill %s: %w", d.name, ErrNotRunning)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return pid, fmt.Errorf("kill %s (process group %d): %w", d.name, pid, err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // in case it left its group
	deadline := time.Now().Add(killWait)
	for processAlive(pid, d.marker) {
		if time.Now().After(deadline) {
			return pid, fmt.Errorf("kill %s: pid %d still alive %s after SIGKILL", d.name, pid, killWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.logger.Warn("killed with SIGKILL", "component", d.name, "pid", pid)
	return pid, nil
}
