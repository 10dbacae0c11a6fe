// Package sitecache keeps sites looked up by site key in memory for a short
// time, so ingest asks the control plane about a site once per TTL rather than
// once per beacon. Unknown keys are remembered too (briefly), concurrent
// misses for one key share a single lookup, and the cache has a size bound.
// Lookup failures other than "not found" are not remembered.
package sitecache
