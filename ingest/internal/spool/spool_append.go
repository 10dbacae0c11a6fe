package spool

import (
	"context"
	"fmt"
	"os"
)

// maxGroupBytes bounds one group commit's write (one Append may exceed it).
const maxGroupBytes = 8 << 20

// appendReq is one Append waiting for the writer.
type appendReq struct {
	recs [][]byte
	size int64
	done chan error
}

// Append writes recs as consecutive records and returns once they are on
// disk (fsync'd), or with ErrFull (nothing written) when they do not fit
// under MaxBytes. Concurrent Appends are committed together, each one's
// records staying contiguous. When ctx ends first, Append returns ctx's
// error, and the records may or may not be spooled.
func (s *Spool) Append(ctx context.Context, recs ...[]byte) error {
	if len(recs) == 0 {
		return nil
	}
	req := &appendReq{recs: recs, done: make(chan error, 1)}
	for _, r := range recs {
		if len(r) > MaxRecordBytes {
			return fmt.Errorf("spool append: %d bytes: %w", len(r), ErrTooLarge)
		}
		req.size += recordSize(len(r))
	}
	if err := s.reserve(req.size); err != nil {
		return err
	}
	defer s.appends.Done()
	s.reqs <- req
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("spool append: %w", ctx.Err())
	}
}

// reserve books size bytes under the cap for an Append about to be queued.
func (s *Spool) reserve(size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("spool append: %w", ErrClosed)
	}
	if s.fileBytes+s.reserved+size > s.opts.MaxBytes {
		return fmt.Errorf("spool append: %d bytes on top of %d, cap %d: %w", size, s.fileBytes+s.reserved, s.opts.MaxBytes, ErrFull)
	}
	s.reserved += size
	s.inflight++
	s.appends.Add(1)
	return nil
}

// writeLoop commits queued Appends: everything queued at once shares one
// write and one fsync (one Append each with SyncEach).
func (s *Spool) writeLoop() {
	defer close(s.done)
	for req := range s.reqs {
		group, size := []*appendReq{req}, req.size
		for !s.opts.SyncEach && size < maxGroupBytes && len(s.reqs) > 0 {
			next := <-s.reqs
			group, size = append(group, next), size+next.size
		}
		err := s.commit(group)
		for _, r := range group {
			r.done <- err
		}
	}
}

// commit writes and fsyncs a group of Appends, then makes their records
// readable. On failure none of them counts, the bytes written are cut off
// (best effort), and the next commit starts a new segment.
func (s *Spool) commit(group []*appendReq) error {
	var size, records int64
	s.wbuf = s.wbuf[:0]
	for _, r := range group {
		for _, p := range r.recs {
			s.wbuf = appendRecord(s.wbuf, p)
		}
		size += r.size
		records += int64(len(r.recs))
	}
	f, seg, err := s.tailFile()
	if err == nil {
		if _, err = f.Write(s.wbuf); err == nil {
			if s.beforeSync != nil {
				s.beforeSync()
			}
			err = f.Sync()
			s.syncs.Add(1)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved -= size
	s.inflight -= len(group)
	if err != nil {
		s.abandonTail(f, seg)
		return fmt.Errorf("spool append: %w", err)
	}
	seg.size += size
	seg.records += records
	s.fileBytes += size
	s.pending += records
	select {
	case s.appended <- struct{}{}:
	default:
	}
	return nil
}

// tailFile returns the segment to append to, starting a new one when there
// is none or the last one is full.
func (s *Spool) tailFile() (*os.File, *segment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tail != nil {
		last := s.segs[len(s.segs)-1]
		if last.size < s.opts.SegmentBytes {
			return s.tail, last, nil
		}
		if err := s.tail.Close(); err != nil {
			s.log.Warn("spool: close full segment", "err", err)
		}
		s.tail = nil
	}
	seq := s.nextSeq
	s.nextSeq++
	f, err := os.OpenFile(s.path(seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("new segment: %w", err)
	}
	if err := syncDir(s.opts.Dir); err != nil {
		_ = f.Close()
		_ = os.Remove(s.path(seq))
		return nil, nil, err
	}
	seg := &segment{seq: seq}
	s.segs = append(s.segs, seg)
	s.tail = f
	return f, seg, nil
}

// abandonTail, after a failed write, cuts off what was written past the
// committed size and closes the segment for appends. Caller holds mu.
func (s *Spool) abandonTail(f *os.File, seg *segment) {
	if f == nil {
		return
	}
	if err := f.Truncate(seg.size); err != nil {
		s.log.Warn("spool: cut off a failed write (the records are checked again at the next start)", "err", err)
	}
	if err := f.Close(); err != nil {
		s.log.Warn("spool: close segment after a failed write", "err", err)
	}
	if s.tail == f {
		s.tail = nil
	}
}

// syncDir makes a new file's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir) //nolint:gosec // the spool's own directory
	if err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	return nil
}
