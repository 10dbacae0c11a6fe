package sender

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
		errs []string
	}{
		{name: "defaults", want: Config{Group: DefaultGroup, Concurrency: 64, Timeout: 10 * time.Second, HostRate: 2000}},
		{name: "set", env: map[string]string{
			"PUSHPIPE_SENDER_GROUP": "g", "PUSHPIPE_SENDER_CONCURRENCY": "8",
			"PUSHPIPE_SENDER_TIMEOUT": "3s", "PUSHPIPE_SENDER_RECORD_SIZE": "4096", "PUSHPIPE_SENDER_HOST_RATE": "0",
		}, want: Config{Group: "g", Concurrency: 8, Timeout: 3 * time.Second, RecordSize: 4096, HostRate: 0}},
		{name: "every problem at once", env: map[string]string{
			"PUSHPIPE_SENDER_CONCURRENCY": "0",
			"PUSHPIPE_SENDER_TIMEOUT":     "0s", "PUSHPIPE_SENDER_RECORD_SIZE": "5000", "PUSHPIPE_SENDER_HOST_RATE": "-1",
		}, errs: []string{"PUSHPIPE_SENDER_CONCURRENCY: 0", "PUSHPIPE_SENDER_TIMEOUT", "PUSHPIPE_SENDER_RECORD_SIZE: 5000", "PUSHPIPE_SENDER_HOST_RATE: -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := config.NewReader(func(k string) string { return tt.env[k] })
			cfg := LoadConfig(r)
			err := cfg.Validate()
			if len(tt.errs) > 0 {
				require.Error(t, err)
				for _, e := range tt.errs {
					require.Contains(t, err.Error(), e)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want.Group, cfg.Group)
			require.Equal(t, tt.want.Concurrency, cfg.Concurrency)
			require.Equal(t, tt.want.Timeout, cfg.Timeout)
			require.Equal(t, tt.want.RecordSize, cfg.RecordSize)
			require.Equal(t, tt.want.HostRate, cfg.HostRate)
		})
	}
}

func TestRecordSize(t *testing.T) {
	require.Equal(t, 103+10, Config{}.recordSize(10), "no padding: the smallest body holding the payload")
	require.Equal(t, 4096, Config{RecordSize: 4096}.recordSize(10), "padded up to the configured size")
	require.Equal(t, 3000+103, Config{RecordSize: 1024}.recordSize(3000), "never below what the payload needs")
}
