package spool

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGroupCommitSharesOneFsync(t *testing.T) {
	ctx := context.Background()
	s, _ := openSpool(t, t.TempDir())
	const waiting = 63
	release, entered := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.beforeSync = func() { once.Do(func() { close(entered); <-release }) }
	var wg sync.WaitGroup
	wg.Go(func() { require.NoError(t, s.Append(ctx, []byte("lead"))) })
	<-entered // the first fsync is in progress
	for i := range waiting {
		wg.Go(func() { require.NoError(t, s.Append(ctx, fmt.Appendf(nil, "r%02d", i))) })
	}
	require.Eventually(t, func() bool { return len(s.reqs) == waiting }, 10*time.Second, time.Millisecond,
		"the others queue while the first fsync is in progress")
	close(release)
	wg.Wait()
	require.EqualValues(t, 2, s.syncs.Load(), "64 appends, two fsyncs: the first alone, the 63 queued behind it together")
	n, _ := s.Depth()
	require.EqualValues(t, 1+waiting, n)
}

func TestSyncEachFsyncsEveryAppend(t *testing.T) {
	ctx := context.Background()
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.SyncEach = true })
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { require.NoError(t, s.Append(ctx, fmt.Appendf(nil, "r%02d", i))) })
	}
	wg.Wait()
	require.EqualValues(t, 20, s.syncs.Load())
}

func TestAppendIsOnDiskWhenItReturns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := openSpool(t, dir)
	require.NoError(t, s.Append(ctx, []byte("durable")))
	require.EqualValues(t, 1, s.syncs.Load())
	files := segmentFiles(t, dir)
	require.Len(t, files, 1)
	raw, err := os.ReadFile(files[0])
	require.NoError(t, err)
	got, n, err := decodeRecords(raw, 10)
	require.NoError(t, err)
	require.Equal(t, len(raw), n)
	require.Equal(t, []string{"durable"}, strs(got))
}

func TestFullSpoolRefusesWholeAppends(t *testing.T) {
	ctx := context.Background()
	rec := make([]byte, 92) // 100 bytes on disk
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.MaxBytes = 1000; o.SegmentBytes = 300 })
	for range 9 {
		require.NoError(t, s.Append(ctx, rec))
	}
	err := s.Append(ctx, rec, rec)
	require.ErrorIs(t, err, ErrFull, "two records do not fit in the last 100 bytes")
	n, bytes := s.Depth()
	require.EqualValues(t, 9, n, "nothing of a refused append is written")
	require.EqualValues(t, 900, bytes)
	require.NoError(t, s.Append(ctx, rec), "one does")
	require.ErrorIs(t, s.Append(ctx, []byte{1}), ErrFull)

	b, err := s.Read(3) // the first segment: three records
	require.NoError(t, err)
	require.NoError(t, s.Ack(b))
	require.NoError(t, s.Append(ctx, rec, rec, rec), "a delivered segment frees its bytes")
	require.ErrorIs(t, s.Append(ctx, make([]byte, MaxRecordBytes+1)), ErrTooLarge)
}

func TestConcurrentAppendsKeepEachCallersOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := openSpool(t, t.TempDir(), func(o *Options) { o.SegmentBytes = 512 })
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				pair := [][]byte{fmt.Appendf(nil, "w%d-%03d-a", w, i), fmt.Appendf(nil, "w%d-%03d-b", w, i)}
				require.NoError(t, s.Append(ctx, pair...))
			}
		})
	}
	var got []string
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; { // read while appending, as the replayer does
		select {
		case <-done:
			finished = true
		case <-time.After(time.Millisecond):
		}
		got = append(got, drain(t, s, 7)...)
	}
	require.Len(t, got, writers*perWriter*2)
	next := map[string]int{}
	for i := 0; i < len(got); i += 2 {
		var w, n int
		_, err := fmt.Sscanf(got[i], "w%d-%03d-a", &w, &n)
		require.NoError(t, err, got[i])
		require.Equal(t, fmt.Sprintf("w%d-%03d-b", w, n), got[i+1], "one append's records stay together")
		require.Equal(t, next[fmt.Sprint(w)], n, "each writer's appends in the order made")
		next[fmt.Sprint(w)]++
	}
}
