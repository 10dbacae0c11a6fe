package spool

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// headerSize is the length and checksum in front of every payload.
const headerSize = 8

// MaxRecordBytes is the largest payload of one record.
const MaxRecordBytes = 16 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordSize is what a payload of n bytes takes on disk.
func recordSize(n int) int64 { return int64(headerSize + n) }

// appendRecord appends the framed payload p to buf.
func appendRecord(buf, p []byte) []byte {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(p))) //nolint:gosec // len(p) <= MaxRecordBytes, checked by Append
	crc := crc32.Update(crc32.Checksum(h[:4], castagnoli), castagnoli, p)
	binary.LittleEndian.PutUint32(h[4:], crc)
	buf = append(buf, h[:]...)
	return append(buf, p...)
}

// parseHeader reads the payload length and checksum of a record header.
func parseHeader(h []byte) (n int, crc uint32, err error) {
	l := binary.LittleEndian.Uint32(h[:4])
	if l > MaxRecordBytes {
		return 0, 0, fmt.Errorf("record length %d above %d: %w", l, MaxRecordBytes, ErrCorrupt)
	}
	return int(l), binary.LittleEndian.Uint32(h[4:headerSize]), nil
}

// checkRecord verifies the checksum of a payload against its header.
func checkRecord(h, p []byte, crc uint32) error {
	if crc32.Update(crc32.Checksum(h[:4], castagnoli), castagnoli, p) != crc {
		return fmt.Errorf("checksum mismatch: %w", ErrCorrupt)
	}
	return nil
}

// decodeRecords splits buf into whole records, at most max of them, and
// returns their payloads (copies) and how many bytes of buf they took. A
// record cut off at the end of buf is left for the next call.
func decodeRecords(buf []byte, max int) ([][]byte, int, error) {
	var out [][]byte
	off := 0
	for len(out) < max && len(buf)-off >= headerSize {
		h := buf[off : off+headerSize]
		n, crc, err := parseHeader(h)
		if err != nil {
			return out, off, err
		}
		if len(buf)-off-headerSize < n {
			break
		}
		p := buf[off+headerSize : off+headerSize+n]
		if err := checkRecord(h, p, crc); err != nil {
			return out, off, err
		}
		out = append(out, append([]byte(nil), p...))
		off += headerSize + n
	}
	return out, off, nil
}
