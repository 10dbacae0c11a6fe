package simulate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Config)
		errors []string // every one must be reported
	}{
		{"defaults with a site key", func(*Config) {}, nil},
		{"origin and limits", func(c *Config) { c.Origin, c.Events, c.Rate, c.Invalid = "https://example.com", 10, 50, 0.015 }, nil},
		{"everything wrong at once", func(c *Config) {
			c.IngestURL, c.SiteKey, c.Visitors, c.Events, c.Rate = "127.0.0.1:8080", "", 0, -1, -2
			c.Batch, c.Invalid, c.Concurrency, c.Days = 101, 1, 0, -1
		}, []string{"ingest URL", "site key", "visitors", "events", "rate", "batch", "invalid", "concurrency", "days"}},
		{"origin with a path", func(c *Config) { c.Origin = "https://example.com/shop" }, []string{"origin"}},
		{"negative fraction", func(c *Config) { c.Invalid = -0.1 }, []string{"invalid"}},
		{"retry bounds", func(c *Config) { c.RetryMax = c.RetryBase / 2 }, []string{"retries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.SiteKey = "pps_x"
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.errors == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			for _, want := range tt.errors {
				require.Contains(t, err.Error(), want)
			}
		})
	}
}
