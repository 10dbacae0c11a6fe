package dashboardapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{"defaults", nil, Config{Addr: "127.0.0.1:8081", QueryTimeout: 30 * time.Second, ShutdownTimeout: 10 * time.Second}, nil},
		{
			"set",
			map[string]string{EnvAddr: ":9000", EnvQueryTimeout: "5s", EnvShutdownTimeout: "1s"},
			Config{Addr: ":9000", QueryTimeout: 5 * time.Second, ShutdownTimeout: time.Second},
			nil,
		},
		{
			"every problem at once",
			map[string]string{EnvAddr: "localhost", EnvQueryTimeout: "1ms", EnvShutdownTimeout: "-1s"},
			Config{},
			[]string{EnvAddr, EnvQueryTimeout, EnvShutdownTimeout},
		},
		{"bad port", map[string]string{EnvAddr: "127.0.0.1:http"}, Config{}, []string{EnvAddr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := config.NewReader(func(k string) string { return tt.env[k] })
			cfg := LoadConfig(r)
			require.NoError(t, r.Err(nil))
			err := cfg.Validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tt.want, cfg)
				return
			}
			require.Error(t, err)
			for _, key := range tt.wantErr {
				require.Contains(t, err.Error(), key)
			}
		})
	}
}

func TestLoadConfigReportsMalformedDurations(t *testing.T) {
	r := config.NewReader(func(k string) string { return map[string]string{EnvQueryTimeout: "soon"}[k] })
	LoadConfig(r)
	require.ErrorContains(t, r.Err(nil), EnvQueryTimeout)
}
