package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// Options configure a spool.
type Options struct {
	Dir          string // created when missing; holds the segment files and a LOCK file
	MaxBytes     int64  // cap on the segment files' total size; required
	SegmentBytes int64  // a segment is closed for appends at this size; default DefaultSegmentBytes
	// SyncEach gives every Append its own write and fsync instead of sharing
	// them: the reference the group-commit benchmark is measured against.
	SyncEach bool
	Log      *slog.Logger // default slog.Default()
}

// DefaultSegmentBytes is the default segment size: small enough that the
// records read again after a crash (at most one segment) stay few.
const DefaultSegmentBytes = 4 << 20

const (
	segmentSuffix = ".seg"
	lockName      = "LOCK"
	queueLen      = 4096 // appends waiting for the writer
)

// segment is one file of the log; size and records count what was fsync'd.
type segment struct {
	seq     uint64
	size    int64
	records int64
}

// Spool is an open spool directory. Make one with Open; Close it.
type Spool struct {
	opts Options
	log  *slog.Logger
	lock *os.File

	mu        sync.Mutex
	segs      []*segment // oldest first; the head is segs[0]
	tail      *os.File   // open for appends to the last segment; nil: the next append starts one
	headOff   int64      // bytes of segs[0] acknowledged
	fileBytes int64      // committed bytes of all segments
	reserved  int64      // bytes of appends not yet committed
	pending   int64      // committed records not yet acknowledged
	inflight  int        // appends not yet committed
	nextSeq   uint64     // of the next segment file
	closed    bool

	appends  sync.WaitGroup // Appends between their check of closed and their answer
	reqs     chan *appendReq
	appended chan struct{} // signalled after each commit
	done     chan struct{} // closed when the writer goroutine returned
	wbuf     []byte        // the writer's buffer

	rf    *os.File // read handle of the head segment (consumer only)
	rfSeq uint64
	rbuf  []byte // the consumer's read buffer

	syncs      atomic.Int64 // fsyncs of appended data, for tests and benchmarks
	beforeSync func()       // test hook, called by the writer before each fsync
}

// Open opens (creating it when missing) and locks the spool directory,
// recovers the segments an earlier process left (cutting off torn records),
// and starts the writer. The records found are read first.
func Open(opts Options) (*Spool, error) {
	if opts.MaxBytes <= 0 {
		return nil, errors.New("open spool: MaxBytes must be positive")
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{
		opts: opts, log: opts.Log, lock: lock,
		reqs: make(chan *appendReq, queueLen), appended: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if err := s.recover(); err != nil {
		_ = lock.Close()
		return nil, err
	}
	go s.writeLoop()
	return s, nil
}

// lockDir takes an exclusive, non-blocking flock on dir/LOCK.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open spool: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil { //nolint:gosec // a file descriptor fits an int
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("open spool %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("open spool: lock: %w", err)
	}
	return f, nil
}

// recover scans every segment file in order, cutting off a torn or corrupt
// tail, and deletes the segments left empty.
func (s *Spool) recover() error {
	seqs, err := listSegments(s.opts.Dir)
	if err != nil {
		return err
	}
	s.nextSeq = 1
	for _, seq := range seqs {
		s.nextSeq = seq + 1
		seg, err := s.scan(seq)
		if err != nil {
			return err
		}
		if seg.size == 0 {
			if err := os.Remove(s.path(seq)); err != nil {
				return fmt.Errorf("open spool: remove empty segment: %w", err)
			}
			continue
		}
		s.segs = append(s.segs, seg)
		s.fileBytes += seg.size
		s.pending += seg.records
	}
	if s.pending > 0 {
		s.log.Info("spool holds records from an earlier run", "dir", s.opts.Dir,
			"records", s.pending, "bytes", s.fileBytes, "segments", len(s.segs))
	}
	return nil
}

// listSegments returns the sequence numbers of the segment files in dir, in order.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("open spool: unexpected file %s in %s", e.Name(), dir)
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// scan counts the whole records of one segment and truncates the file after
// the last one that holds together.
func (s *Spool) scan(seq uint64) (*segment, error) {
	path := s.path(seq)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	defer func() { _ = f.Close() }()
	seg := &segment{seq: seq}
	r := bufio.NewReaderSize(f, 1<<20)
	var h [headerSize]byte
	var p []byte
	var bad error
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if !errors.Is(err, io.EOF) {
				bad = fmt.Errorf("torn header: %w", err)
			}
			break
		}
		n, crc, err := parseHeader(h[:])
		if err != nil {
			bad = err
			break
		}
		p = slices.Grow(p[:0], n)[:n]
		if _, err := io.ReadFull(r, p); err != nil {
			bad = fmt.Errorf("torn payload: %w", err)
			break
		}
		if err := checkRecord(h[:], p, crc); err != nil {
			bad = err
			break
		}
		seg.size += recordSize(n)
		seg.records++
	}
	if bad == nil {
		return seg, nil
	}
	return seg, truncate(f, seg, bad, s.log, path)
}

// truncate cuts f after the last good record of seg, with a log line.
func truncate(f *os.File, seg *segment, why error, log *slog.Logger, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open spool: %w", err)
	}
	log.Warn("spool: cutting off a torn or corrupt record (a write interrupted by a crash); it was never acknowledged",
		"file", path, "offset", seg.size, "bytes_dropped", fi.Size()-seg.size, "records_kept", seg.records, "err", why)
	if err := f.Truncate(seg.size); err != nil {
		return fmt.Errorf("open spool: truncate %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("open spool: sync %s: %w", path, err)
	}
	return nil
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.opts.Dir, fmt.Sprintf("%020d%s", seq, segmentSuffix))
}

// Depth is how many records are not yet acknowledged, and the bytes the
// segment files take (acknowledged records included until their segment goes).
func (s *Spool) Depth() (records, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending, s.fileBytes
}

// Empty reports whether every record appended was acknowledged and no
// Append is in progress.
func (s *Spool) Empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending == 0 && s.inflight == 0
}

// Appended is signalled (without blocking, so signals may merge) after
// each commit of new records.
func (s *Spool) Appended() <-chan struct{} { return s.appended }

// Close waits for the Appends in progress, stops the writer and releases
// the directory; call it after the consumer stopped. The records not acknowledged stay on disk for the next Open;
// an empty spool leaves no segment file behind.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.appends.Wait()
	close(s.reqs)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := []error{s.dropFinished()}
	if s.tail != nil {
		errs = append(errs, s.tail.Close())
	}
	if s.rf != nil {
		errs = append(errs, s.rf.Close())
	}
	if len(s.segs) == 0 { // nothing to keep: leave no directory behind
		_ = os.Remove(s.lock.Name())
		_ = os.Remove(s.opts.Dir)
	}
	errs = append(errs, s.lock.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}
