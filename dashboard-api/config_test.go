package dashboardapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
)

func TestLoadConfig(t *testing.T) {
	with := func(f func(*Config)) Config { c := Defaults(); f(&c); return c }
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{"defaults", nil, Config{
			Addr: "127.0.0.1:8081", QueryTimeout: 30 * time.Second, ShutdownTimeout: 10 * time.Second,
			SessionTTL: 12 * time.Hour, PublicURL: "http://127.0.0.1:8081", IngestURL: "http://127.0.0.1:8080",
			RatePerMinute: 6000, RateBurst: 600, AuthRatePerMinute: 20, AuthRateBurst: 10,
		}, nil},
		{
			"set",
			map[string]string{EnvAddr: ":9000", EnvQueryTimeout: "5s", EnvShutdownTimeout: "1s"},
			with(func(c *Config) { c.Addr, c.QueryTimeout, c.ShutdownTimeout = ":9000", 5*time.Second, time.Second }),
			nil,
		},
		{
			"accounts and rate limits",
			map[string]string{
				EnvSessionTTL: "1h", EnvInsecureCookies: "true", EnvPublicURL: "https://push.example.com/", EnvIngestURL: "https://in.example.com",
				EnvRatePerMinute: "0", EnvRateBurst: "0", EnvAuthRatePerMinute: "5", EnvAuthRateBurst: "2",
			},
			with(func(c *Config) {
				c.SessionTTL, c.InsecureCookies, c.PublicURL, c.IngestURL = time.Hour, true, "https://push.example.com", "https://in.example.com"
				c.RatePerMinute, c.RateBurst, c.AuthRatePerMinute, c.AuthRateBurst = 0, 0, 5, 2
			}),
			nil,
		},
		{
			"every accounts problem at once",
			map[string]string{
				EnvSessionTTL: "1s", EnvPublicURL: "push.example.com", EnvIngestURL: "ftp://x",
				EnvRatePerMinute: "-1", EnvAuthRatePerMinute: "10", EnvAuthRateBurst: "0",
			},
			Config{},
			[]string{EnvSessionTTL, EnvPublicURL, EnvIngestURL, EnvRatePerMinute, EnvAuthRateBurst},
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
