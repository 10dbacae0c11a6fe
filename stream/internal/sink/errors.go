package sink

import "errors"

// ErrDrainBudget is the cause when Run gives up flushing after its context
// ended because Config.DrainTimeout ran out; what was not committed is
// delivered again to the next consumer and skipped or deduplicated there.
var ErrDrainBudget = errors.New("drain budget exhausted")

// ErrConsumerClosed is returned by Run when the consumer reports that it was
// closed (io.EOF) while Run was still using it.
var ErrConsumerClosed = errors.New("kafka consumer closed")
