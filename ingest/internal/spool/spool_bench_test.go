package spool

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
)

// BenchmarkAppend measures durable appends per second from 64 concurrent
// callers (as concurrent beacons would be), each appending one beacon's
// worth of records (5 events of 600 bytes): with group commit (the spool as
// ingest uses it) and, beside it as the reference, with one write and fsync
// per append (SyncEach). fsyncs/op shows how many callers shared one fsync.
//
//	go test -run '^$' -bench Append ./ingest/internal/spool/
func BenchmarkAppend(b *testing.B) {
	for _, bm := range []struct {
		name     string
		syncEach bool
	}{{"group_commit", false}, {"fsync_each", true}} {
		b.Run(bm.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), MaxBytes: 8 << 30, SyncEach: bm.syncEach, Log: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			rec := make([]byte, 600)
			beacon := [][]byte{rec, rec, rec, rec, rec}
			ctx := context.Background()
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.SetBytes(5 * recordSize(len(rec)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Append(ctx, beacon...); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			b.ReportMetric(float64(s.syncs.Load())/float64(b.N), "fsyncs/op")
		})
	}
}
