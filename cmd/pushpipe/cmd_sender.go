package main

import (
	"context"
	"log/slog"

	"github.com/pushpipe/pushpipe/internal/config"
	"github.com/pushpipe/pushpipe/internal/controlplane"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/sender"
)

// senderRole delivers push requests; it needs the master key to unseal
// the sites' VAPID private keys.
func senderRole(r *config.Reader) roleSpec {
	cfg := sender.LoadConfig(r)
	events := r.String(config.EnvEventsTopic, schemas.TopicEvents)
	return roleSpec{validate: cfg.Validate, build: func(ctx context.Context, c common, log *slog.Logger) (runner, func(), error) {
		key, err := c.masterKey()
		if err != nil {
			return nil, nil, err
		}
		db, err := c.openPostgres(ctx)
		if err != nil {
			return nil, nil, err
		}
		svc, err := sender.New(cfg, sender.Deps{
			Brokers:  c.Kafka,
			Postgres: db,
			Store:    controlplane.NewStore(db, key),
			Topic:    events,
		}, log)
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return svc, db.Close, nil
	}}
}
