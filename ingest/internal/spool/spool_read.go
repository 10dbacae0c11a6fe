package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// readChunk bounds the bytes one Read takes from a segment (a record larger
// than that is read on its own).
const readChunk = 4 << 20

// Batch is records read from the head of the spool, oldest first.
type Batch struct {
	Records [][]byte
	seq     uint64 // the segment they are in
	from    int64  // offset of the first
	to      int64  // offset after the last
}

// Read returns up to max of the oldest records not yet acknowledged, all
// from one segment; none when the spool is empty. Reading again without
// Ack returns the same records. For one consumer.
func (s *Spool) Read(max int) (Batch, error) {
	s.mu.Lock()
	if err := s.dropFinished(); err != nil {
		s.mu.Unlock()
		return Batch{}, err
	}
	if len(s.segs) == 0 || s.headOff == s.segs[0].size {
		s.mu.Unlock()
		return Batch{}, nil
	}
	seq, from, limit := s.segs[0].seq, s.headOff, s.segs[0].size
	s.mu.Unlock()

	f, err := s.reader(seq)
	if err != nil {
		return Batch{}, err
	}
	s.rbuf = slices.Grow(s.rbuf[:0], readChunk)
	buf := s.rbuf[:min(limit-from, readChunk)]
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return Batch{}, fmt.Errorf("spool read: %w", err)
	}
	recs, n, err := decodeRecords(buf, max)
	if err == nil && len(recs) == 0 && max > 0 {
		recs, n, err = s.readOne(f, from)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("spool read %s at %d: %w", s.path(seq), from+int64(n), err)
	}
	return Batch{Records: recs, seq: seq, from: from, to: from + int64(n)}, nil
}

// readOne reads the single record at off, one larger than readChunk.
func (s *Spool) readOne(f *os.File, off int64) ([][]byte, int, error) {
	var h [headerSize]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return nil, 0, fmt.Errorf("read header: %w", err)
	}
	n, _, err := parseHeader(h[:])
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, headerSize+n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, 0, fmt.Errorf("read record: %w", err)
	}
	return decodeRecords(buf, 1)
}

// reader returns a read handle on segment seq, reusing the last one.
func (s *Spool) reader(seq uint64) (*os.File, error) {
	if s.rf != nil && s.rfSeq == seq {
		return s.rf, nil
	}
	if s.rf != nil {
		_ = s.rf.Close()
		s.rf = nil
	}
	f, err := os.Open(s.path(seq))
	if err != nil {
		return nil, fmt.Errorf("spool read: %w", err)
	}
	s.rf, s.rfSeq = f, seq
	return f, nil
}

// Ack marks the records of b, which must start at the head, as delivered.
// Segment files left with nothing to deliver are deleted.
func (s *Spool) Ack(b Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segs) == 0 || s.segs[0].seq != b.seq || s.headOff != b.from {
		return fmt.Errorf("spool ack: %w", ErrNotHead)
	}
	s.headOff = b.to
	s.pending -= int64(len(b.Records))
	return s.dropFinished()
}

// dropFinished deletes head segments whose every record was acknowledged:
// a segment still open for appends only when no Append is in progress, so
// the writer never writes to a deleted file. Caller holds mu.
func (s *Spool) dropFinished() error {
	for len(s.segs) > 0 && s.headOff == s.segs[0].size {
		isTail := len(s.segs) == 1 && s.tail != nil
		if isTail && s.inflight > 0 {
			return nil
		}
		seg := s.segs[0]
		if isTail {
			_ = s.tail.Close()
			s.tail = nil
		}
		if s.rf != nil && s.rfSeq == seg.seq {
			_ = s.rf.Close()
			s.rf = nil
		}
		if err := os.Remove(s.path(seg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: delete delivered segment: %w", err)
		}
		s.segs = s.segs[1:]
		s.fileBytes -= seg.size
		s.headOff = 0
	}
	return nil
}
