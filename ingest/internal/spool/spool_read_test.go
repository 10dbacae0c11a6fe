package spool

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendReadBackInOrder(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		segBytes int64
		batch    int
	}{
		{"one segment", 0, 1000},
		{"many small segments, small batches", 64, 3},
		{"one record per segment", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = tt.segBytes })
			require.True(t, s.Empty())
			var want []string
			for i := range 10 {
				r := recs(fmt.Sprintf("a%d", i), i+1)
				require.NoError(t, s.Append(ctx, r...))
				want = append(want, strs(r)...)
			}
			n, bytes := s.Depth()
			require.EqualValues(t, len(want), n)
			require.Positive(t, bytes)
			require.False(t, s.Empty())

			b, err := s.Read(2)
			require.NoError(t, err)
			again, err := s.Read(2)
			require.NoError(t, err)
			require.Equal(t, b.Records, again.Records, "reading without Ack reads the same records")

			require.Equal(t, want, drain(t, s, tt.batch))
			require.True(t, s.Empty())
			n, bytes = s.Depth()
			require.Zero(t, n)
			require.Zero(t, bytes)
			require.Empty(t, segmentFiles(t, dir), "delivered segments are deleted")
		})
	}
}

func TestSegmentDeletedOnlyAfterEveryRecordAcked(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := openSpool(t, dir, func(o *Options) { o.SegmentBytes = 1 }) // one append per segment
	require.NoError(t, s.Append(ctx, recs("first", 3)...))
	require.NoError(t, s.Append(ctx, recs("second", 2)...))
	require.Len(t, segmentFiles(t, dir), 2)

	b, err := s.Read(2)
	require.NoError(t, err)
	require.Equal(t, []string{"first-000", "first-001"}, strs(b.Records))
	require.NoError(t, s.Ack(b))
	require.Len(t, segmentFiles(t, dir), 2, "one record of the first segment is not acknowledged")

	b, err = s.Read(10)
	require.NoError(t, err)
	require.Equal(t, []string{"first-002"}, strs(b.Records), "a batch stays within one segment")
	require.Len(t, segmentFiles(t, dir), 2, "read is not acknowledged")
	require.NoError(t, s.Ack(b))
	require.Len(t, segmentFiles(t, dir), 1)
	require.ErrorIs(t, s.Ack(b), ErrNotHead, "the same batch twice")
}

func TestRecordLargerThanAReadChunk(t *testing.T) {
	ctx := context.Background()
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.MaxBytes = 32 << 20 })
	big := make([]byte, readChunk+100)
	big[len(big)-1] = 'z'
	require.NoError(t, s.Append(ctx, []byte("before")))
	require.NoError(t, s.Append(ctx, big, []byte("after")))
	got := drain(t, s, 10)
	require.Equal(t, []string{"before", string(big), "after"}, got)
}
