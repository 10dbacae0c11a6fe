package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/pushpipe/pushpipe/internal/config"
)

// composeFile is the part of docker-compose.yml this test checks.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

// No Docker engine runs on the development machines, so docker-compose.yml is
// checked by parsing it: official images pinned, Pushpipe's settings known to
// its configuration loader, dependencies gated on health checks.
func TestDockerComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	var f composeFile
	require.NoError(t, yaml.Unmarshal(raw, &f))

	official := map[string]string{"kafka": "apache/kafka:", "clickhouse": "clickhouse/clickhouse-server:", "postgres": "postgres:"}
	for name, prefix := range official {
		svc, ok := f.Services[name]
		require.True(t, ok, "service %s missing", name)
		require.True(t, strings.HasPrefix(svc.Image, prefix), "%s image %q is not the official one", name, svc.Image)
		require.NotContains(t, svc.Image, ":latest", "%s image must be pinned", name)
		require.NotNil(t, svc.Healthcheck, "%s needs a healthcheck for depends_on", name)
	}

	pp, ok := f.Services["pushpipe"]
	require.True(t, ok, "service pushpipe missing")
	require.NotNil(t, pp.Build, "pushpipe must be built from the Dockerfile")
	for name := range official {
		require.Equal(t, "service_healthy", pp.DependsOn[name].Condition, "pushpipe must wait for %s", name)
	}
	_, ok = commands()[pp.Command[0]]
	require.True(t, ok, "pushpipe command %q is not a subcommand", pp.Command[0])

	// Every PUSHPIPE_* setting in the file must be one the roles read.
	env := map[string]string{}
	environ := make([]string, 0, len(pp.Environment))
	for k, v := range pp.Environment {
		env[k] = v
		environ = append(environ, k+"="+v)
	}
	r := config.NewReader(func(k string) string { return env[k] })
	loadAllConfigs(r)
	require.NoError(t, r.Err(environ))
	for _, k := range []string{"PUSHPIPE_KAFKA", "PUSHPIPE_CLICKHOUSE", "PUSHPIPE_POSTGRES", "PUSHPIPE_MASTER_KEY"} {
		require.Contains(t, env, k)
	}
	_, err = os.Stat("../../Dockerfile")
	require.NoError(t, err)
}
