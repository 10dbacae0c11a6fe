package devstack

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string
	}{
		{
			name: "defaults",
			want: DefaultConfig(),
		},
		{
			name: "overrides",
			env: map[string]string{
				EnvDir: "/tmp/x", EnvKafkaPort: "29092", EnvClickHousePort: "29000",
				EnvPostgresPort: "25432", EnvPartitions: " 3 ",
			},
			want: Config{Dir: "/tmp/x", KafkaPort: 29092, ClickHousePort: 29000, PostgresPort: 25432, Partitions: 3},
		},
		{
			name: "every problem at once",
			env: map[string]string{
				EnvKafkaPort: "x", EnvClickHousePort: "70000", EnvPostgresPort: "0", EnvPartitions: "-1",
			},
			wantErr: []string{
				"PUSHPIPE_DEV_KAFKA_PORT: not an integer: \"x\"",
				"clickhouse port: 70000 is outside 1..65535",
				"postgres port: 0 is outside 1..65535",
				"partitions: -1 is outside 1..1000",
			},
		},
		{
			name:    "controller port collides",
			env:     map[string]string{EnvKafkaPort: "19000"},
			wantErr: []string{"clickhouse port: 19000 is already the kafka port"},
		},
		{
			name:    "kafka port leaves no room for the controller",
			env:     map[string]string{EnvKafkaPort: "65535"},
			wantErr: []string{"kafka port: 65535 is outside 1..65534 (port+1 is used too)"},
		},
		{
			name:    "controller port is kafka port+1",
			env:     map[string]string{EnvKafkaPort: "14431", EnvPostgresPort: "14432"},
			wantErr: []string{"postgres port: 14432 is already the kafka controller port (kafka port+1)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(envOf(tt.env))
			if len(tt.wantErr) == 0 {
				require.NoError(t, err)
				require.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrInvalidConfig))
			for _, w := range tt.wantErr {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestValidateEmptyDir(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = " "
	require.ErrorContains(t, cfg.Validate(), "dir: must not be empty")
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := New(Config{})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestStackEnv(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	s, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"PUSHPIPE_KAFKA":      "127.0.0.1:19092",
		"PUSHPIPE_CLICKHOUSE": "clickhouse://127.0.0.1:19000/default",
		"PUSHPIPE_POSTGRES":   "postgres://pushpipe@127.0.0.1:15432/pushpipe?sslmode=disable",
	}, s.Env())
}

func TestStackService(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	s, err := New(cfg)
	require.NoError(t, err)
	for _, name := range []string{"kafka", "clickhouse", "postgres"} {
		svc, err := s.Service(name)
		require.NoError(t, err)
		require.Equal(t, name, svc.Name())
		log, err := s.LogFile(name)
		require.NoError(t, err)
		require.Equal(t, cfg.Dir+"/logs/"+name+".log", log)
	}
	_, err = s.Service("redis")
	require.ErrorIs(t, err, ErrUnknownService)
}
