package segrun

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
)

// run owns one partition for one generation: restore, then read, evaluate,
// produce and commit until ctx ends. committed is the group's offset, or
// kafka.FirstOffset when the group has none.
func (o *owner) run(ctx context.Context, committed int64, commit func(next int64) error) error {
	from, err := o.start(ctx, committed)
	if err != nil {
		return err
	}
	reader, err := o.rt.kafka.reader(o.part, from)
	if err != nil {
		return err
	}
	defer func() { _ = reader.Close() }()
	msgs := make(chan kafka.Message, 1024)
	fetchCtx, stopFetch := context.WithCancel(ctx)
	fetched := make(chan struct{})
	go func() {
		defer close(fetched)
		defer close(msgs)
		for {
			m, err := reader.FetchMessage(fetchCtx)
			if err != nil {
				return
			}
			select {
			case msgs <- m:
			case <-fetchCtx.Done():
				return
			}
		}
	}()
	defer func() { stopFetch(); <-fetched }()
	return o.loop(ctx, msgs, commit)
}

// start resolves where reading begins and restores the state, retrying
// while ClickHouse or Kafka are unavailable.
func (o *owner) start(ctx context.Context, committed int64) (int64, error) {
	for {
		from := committed
		var err error
		if from < 0 {
			from, _, err = o.rt.kafka.offsets(ctx, o.part)
		}
		if err == nil {
			from, err = o.restore(ctx, from)
		}
		if err == nil {
			return from, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		o.log.Warn("segment state not restored; retrying", "err", err)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (o *owner) loop(ctx context.Context, msgs <-chan kafka.Message, commit func(int64) error) error {
	tick := time.NewTicker(o.rt.cfg.Flush)
	defer tick.Stop()
	committed := o.next
	lastCommit := o.rt.now()
	save := func(ctx context.Context) error {
		if err := o.flush(ctx); err != nil {
			return err
		}
		if o.next == committed {
			return nil
		}
		if err := commit(o.next); err != nil {
			return err
		}
		committed, lastCommit = o.next, o.rt.now()
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := save(drain)
			cancel()
			if errors.Is(err, kafka.ErrGenerationEnded) {
				err = nil // the next owner replays; pending transitions are recognised then
			}
			return err
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			o.handle(m)
			if len(o.out) >= 1000 {
				if err := o.flush(ctx); err != nil {
					return err
				}
			}
		case <-tick.C:
			if len(msgs) == 0 {
				o.advance(o.rt.now())
			}
			if err := o.refresh(ctx); err != nil {
				o.log.Warn("segment definitions not applied yet", "err", err)
			}
			if err := o.flush(ctx); err != nil {
				return err
			}
			if o.rt.now().Sub(lastCommit) >= o.rt.cfg.Commit {
				if err := save(ctx); err != nil && ctx.Err() == nil {
					o.log.Warn("offsets not committed", "err", err)
				}
			}
		}
	}
}
