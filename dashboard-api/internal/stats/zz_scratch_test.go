package stats

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestZZScratchLoad(t *testing.T) {
	if os.Getenv("PB_SCRATCH") == "" {
		t.Skip()
	}
	conn := freshDatabase(t, "pb_scratch_attr", true)
	now := loadBenchEvents(context.Background(), t, conn, envInt("PB_EVENTS", 2000000))
	fmt.Println("now", now.Format(time.RFC3339Nano))
	c := NewClickHouse(conn)
	month, _ := benchRange(t, now, 30, Day, "America/New_York")
	for _, kind := range []PushKind{Campaigns, Automations} {
		for _, f := range []func(string, string) string{senderCounts, browserCounts} {
			g := pushGroups[kind]
			ds := timeRuns(context.Background(), t, 5, func() error {
				_, err := c.pushCounts(context.Background(), PushQuery{OverviewQuery: month, Kind: kind}, f(g.cols, g.filter))
				return err
			})
			fmt.Println(kind, ms(pct(ds, 50)))
		}
	}
}
