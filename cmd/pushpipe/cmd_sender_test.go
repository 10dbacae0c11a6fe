package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/config"
)

func TestSenderRoleConfig(t *testing.T) {
	env := map[string]string{"PUSHPIPE_SENDER_CONCURRENCY": "0", "PUSHPIPE_SENDER_RECORD_SIZE": "9000"}
	spec := senderRole(config.NewReader(func(k string) string { return env[k] }))
	err := spec.validate()
	require.ErrorContains(t, err, "PUSHPIPE_SENDER_CONCURRENCY")
	require.ErrorContains(t, err, "PUSHPIPE_SENDER_RECORD_SIZE")

	spec = senderRole(config.NewReader(func(string) string { return "" }))
	require.NoError(t, spec.validate())
	r := config.NewReader(func(string) string { return "" })
	c := loadCommon(r)
	_, _, err = spec.build(context.Background(), c, c.logger(io.Discard, "sender"))
	require.ErrorContains(t, err, "PUSHPIPE_MASTER_KEY", "the sender cannot start without the key that unseals VAPID keys")
}
