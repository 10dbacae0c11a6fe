// Package segrun is the segment evaluator runtime of the stream role: it
// keeps every subscriber's segment membership current from the events topic
// and writes transitions (segment_entered / segment_exited) back to it.
//
// It has its own consumer group. Each generation's assigned partitions get
// one owner goroutine each, holding that partition's subscriber states (a
// subscriber's events share one partition: key site:subscriber), its timer
// heap and its clock; nothing on the hot path is shared or locked. Segment
// definitions come from the control plane by polling (catalog.go) and reach
// the owners as an immutable snapshot behind an atomic pointer.
//
// Restore (restore.go): an owner rebuilds its partition's state by replaying
// the stored events of that partition from ClickHouse (every row keeps its
// Kafka position), up to the offset where Kafka reading resumes, and learns
// which transitions were already emitted from the stored transitions plus a
// scan of the partition's tail; a transition the replay would emit again is
// recognised and not produced twice. DESIGN.md has the whole argument.
package segrun
