package stream

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		want     Config
		readErr  string // from the reader: unparsable values
		validErr []string
	}{
		{
			name: "defaults",
			want: Config{Topic: "events.v1", Group: "pushpipe-sink", SegmentsGroup: "pushpipe-segments", AutomationsGroup: "pushpipe-automations", AutomationsOwnSites: true, RequestsTopic: "push-requests.v1", BatchSize: 5000, BatchInterval: 500 * time.Millisecond, DrainTimeout: 10 * time.Second, RetentionInterval: time.Hour},
		},
		{
			name: "set",
			env: map[string]string{
				"PUSHPIPE_SINK_GROUP": "g2", "PUSHPIPE_SEGMENTS_GROUP": "s2", "PUSHPIPE_SINK_BATCH_SIZE": "100", "PUSHPIPE_EVENTS_TOPIC": "events.v2-staging", "PUSHPIPE_SINK_BATCH_INTERVAL": "2s",
				"PUSHPIPE_AUTOMATIONS_GROUP": "a2", "PUSHPIPE_SEND_RATE": "250", "PUSHPIPE_AUTOMATIONS_OWN_SITES": "false",
				"PUSHPIPE_RETENTION_INTERVAL": "15m",
			},
			want: Config{Topic: "events.v2-staging", Group: "g2", SegmentsGroup: "s2", AutomationsGroup: "a2", SendRate: 250, RequestsTopic: "push-requests.v1", BatchSize: 100, BatchInterval: 2 * time.Second, DrainTimeout: 10 * time.Second, RetentionInterval: 15 * time.Minute},
		},
		{
			name:    "unparsable",
			env:     map[string]string{"PUSHPIPE_SINK_BATCH_SIZE": "lots", "PUSHPIPE_SINK_BATCH_INTERVAL": "soon"},
			want:    Config{Topic: "events.v1", Group: "pushpipe-sink", SegmentsGroup: "pushpipe-segments", AutomationsGroup: "pushpipe-automations", AutomationsOwnSites: true, RequestsTopic: "push-requests.v1", BatchSize: 5000, BatchInterval: 500 * time.Millisecond, DrainTimeout: 10 * time.Second, RetentionInterval: time.Hour},
			readErr: `PUSHPIPE_SINK_BATCH_SIZE: "lots" is not an integer`,
		},
		{
			name: "out of range, all reported",
			env: map[string]string{
				"PUSHPIPE_SINK_BATCH_SIZE": "0", "PUSHPIPE_SINK_BATCH_INTERVAL": "1ms", "PUSHPIPE_SEGMENTS_GROUP": "pushpipe-sink",
				"PUSHPIPE_AUTOMATIONS_GROUP": "pushpipe-sink", "PUSHPIPE_SEND_RATE": "-1",
				"PUSHPIPE_RETENTION_INTERVAL": "10s",
			},
			want: Config{Topic: "events.v1", Group: "pushpipe-sink", SegmentsGroup: "pushpipe-sink", AutomationsGroup: "pushpipe-sink", SendRate: -1, AutomationsOwnSites: true, RequestsTopic: "push-requests.v1", BatchSize: 0, BatchInterval: time.Millisecond, DrainTimeout: 10 * time.Second, RetentionInterval: 10 * time.Second},
			validErr: []string{
				"PUSHPIPE_SEGMENTS_GROUP: must not be empty nor the sink's group",
				"PUSHPIPE_AUTOMATIONS_GROUP: must not be blank nor the sink's or the segment evaluator's group",
				"PUSHPIPE_SEND_RATE: -1 is out of range 0..1000000",
				"PUSHPIPE_SINK_BATCH_SIZE: 0 is out of range 1..1000000",
				"PUSHPIPE_SINK_BATCH_INTERVAL: 1ms is out of range 10ms..10m0s",
				"PUSHPIPE_RETENTION_INTERVAL: 10s is out of range 1m0s..168h0m0s (or 0: off)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var environ []string
			for k, v := range tt.env {
				environ = append(environ, k+"="+v)
			}
			r := config.NewReader(func(k string) string { return tt.env[k] })
			got := LoadConfig(r)
			require.Equal(t, tt.want, got)
			if tt.readErr != "" {
				require.ErrorContains(t, r.Err(environ), tt.readErr)
			} else {
				require.NoError(t, r.Err(environ), "every key is declared")
			}
			err := got.Validate()
			if len(tt.validErr) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tt.validErr, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestValidateEmptyTopicAndGroup(t *testing.T) {
	c := Config{Topic: "", Group: " ", SegmentsGroup: "s", AutomationsGroup: "a", RequestsTopic: "r", BatchSize: 1, BatchInterval: time.Second, DrainTimeout: time.Second}
	require.EqualError(t, c.Validate(), "PUSHPIPE_EVENTS_TOPIC: must not be empty\nPUSHPIPE_SINK_GROUP: must not be empty")
	c = Config{Topic: "events", Group: "g", SegmentsGroup: "s", AutomationsGroup: "a", RequestsTopic: "events", BatchSize: 1, BatchInterval: time.Second, DrainTimeout: time.Second}
	require.EqualError(t, c.Validate(), "push requests topic: must not be the events topic")
}
