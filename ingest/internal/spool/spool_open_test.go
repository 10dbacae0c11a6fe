package spool

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/testkit"
)

func openSpool(t testing.TB, dir string, edit ...func(*Options)) (*Spool, *testkit.LogBuffer) {
	t.Helper()
	logs := &testkit.LogBuffer{}
	opts := Options{Dir: dir, MaxBytes: 1 << 20, Log: slog.New(slog.NewTextHandler(logs, nil))}
	for _, e := range edit {
		e(&opts)
	}
	s, err := Open(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s, logs
}

func recs(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "%s-%03d", prefix, i)
	}
	return out
}

// drain reads and acknowledges everything, batch by batch of at most max.
func drain(t testing.TB, s *Spool, max int) []string {
	t.Helper()
	var got []string
	for {
		b, err := s.Read(max)
		require.NoError(t, err)
		if len(b.Records) == 0 {
			return got
		}
		require.LessOrEqual(t, len(b.Records), max)
		for _, r := range b.Records {
			got = append(got, string(r))
		}
		require.NoError(t, s.Ack(b))
	}
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
	require.NoError(t, err)
	return m
}

func TestRestartReplaysWhatWasNotAcked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 26 }) // two records (13 bytes each) per segment
	all := recs("r", 9)
	for _, r := range all {
		require.NoError(t, s.Append(ctx, r))
	}
	b, err := s.Read(3)
	require.NoError(t, err)
	require.Len(t, b.Records, 2, "the first segment")
	require.NoError(t, s.Ack(b))
	b, err = s.Read(1)
	require.NoError(t, err)
	require.NoError(t, s.Ack(b)) // r-002 acknowledged, its segment not finished
	require.NoError(t, s.Close())

	s2, logs := openSpool(t, dir)
	n, _ := s2.Depth()
	require.EqualValues(t, 7, n, "the records of every segment still on disk")
	require.Contains(t, logs.String(), "earlier run")
	require.NoError(t, s2.Append(ctx, []byte("after-restart")))
	got := drain(t, s2, 100)
	require.Equal(t, append(strs(all[2:]), "after-restart"), got,
		"at least once: the acknowledged r-002 comes again with its segment; order kept; new records after")
}

func TestCorruptTailIsCutOff(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, path string) // of the last segment, holding r-000..r-004
		keep    int
		logPart string
	}{
		{"torn header", func(t *testing.T, p string) { appendBytes(t, p, []byte{9, 0, 0}) }, 5, "torn header"},
		{"torn payload", func(t *testing.T, p string) { chop(t, p, 3) }, 4, "torn payload"},
		{"flipped byte", func(t *testing.T, p string) { flip(t, p, -2) }, 4, "checksum mismatch"},
		{"garbage length", func(t *testing.T, p string) { appendBytes(t, p, []byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4}) }, 5, "record length"},
		{"zeroes after the records", func(t *testing.T, p string) { appendBytes(t, p, make([]byte, 64)) }, 5, "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s, _ := openSpool(t, dir)
			all := recs("r", 5)
			for _, r := range all {
				require.NoError(t, s.Append(ctx, r))
			}
			require.NoError(t, s.Close())
			files := segmentFiles(t, dir)
			require.Len(t, files, 1)
			tt.damage(t, files[0])

			s2, logs := openSpool(t, dir)
			require.Contains(t, logs.String(), "cutting off a torn or corrupt record")
			require.Contains(t, logs.String(), tt.logPart)
			require.NoError(t, s2.Append(ctx, []byte("next")))
			require.Equal(t, append(strs(all[:tt.keep]), "next"), drain(t, s2, 100), "never garbage, never a lost whole record")
		})
	}
}

func TestCorruptOnlyRecordLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir)
	require.NoError(t, s.Append(context.Background(), []byte("only")))
	require.NoError(t, s.Close())
	flip(t, segmentFiles(t, dir)[0], -1)
	s2, _ := openSpool(t, dir)
	require.True(t, s2.Empty())
	require.Empty(t, segmentFiles(t, dir), "a segment left empty is removed")
}

func TestSecondOpenOfADirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	openSpool(t, dir)
	_, err := Open(Options{Dir: dir, MaxBytes: 1 << 20})
	require.ErrorIs(t, err, ErrLocked)
}

func TestCloseLeavesNoEmptyDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s, _ := openSpool(t, dir)
	require.NoError(t, s.Append(context.Background(), []byte("x")))
	drain(t, s, 10)
	require.NoError(t, s.Close())
	require.NoDirExists(t, dir)
	require.ErrorIs(t, s.Append(context.Background(), []byte("y")), ErrClosed)
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(b)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func chop(t *testing.T, path string, n int64) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()-n))
}

// flip inverts the byte at offset at (negative: from the end).
func flip(t *testing.T, path string, at int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	if at < 0 {
		at += len(raw)
	}
	raw[at] ^= 0xff
	require.NoError(t, os.WriteFile(path, raw, 0o600))
}
