// Package config reads typed configuration from the environment. Each role
// declares its keys with a Reader; problems are collected and reported at once,
// and PUSHPIPE_* variables that no role declared are errors (a typo must not
// silently fall back to a default).
package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Prefix starts every Pushpipe environment variable.
const Prefix = "PUSHPIPE_"

// EnvEventsTopic names the events topic that ingest writes and the sink
// reads (default schemas.TopicEvents). Another name isolates one deployment,
// or one end-to-end test, from others on the same Kafka cluster.
const EnvEventsTopic = Prefix + "EVENTS_TOPIC"

// Reader reads keys from an environment, remembering which keys were asked
// for and every problem found.
type Reader struct {
	getenv func(string) string
	known  map[string]bool
	errs   []error
}

// NewReader reads from getenv (os.Getenv in main, a map in tests).
func NewReader(getenv func(string) string) *Reader {
	return &Reader{getenv: getenv, known: map[string]bool{}}
}

func (r *Reader) lookup(key string) (string, bool) {
	r.known[key] = true
	v := strings.TrimSpace(r.getenv(key))
	return v, v != ""
}

// String returns the value of key, or def when unset.
func (r *Reader) String(key, def string) string {
	if v, ok := r.lookup(key); ok {
		return v
	}
	return def
}

// List returns the comma-separated values of key, or def when unset.
func (r *Reader) List(key string, def []string) []string {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Int returns the integer value of key, or def when unset or invalid (recording the problem).
func (r *Reader) Int(key string, def int) int {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %q is not an integer", key, v))
		return def
	}
	return n
}

// Duration returns the duration value of key (such as 250ms or 5s), or def.
func (r *Reader) Duration(key string, def time.Duration) time.Duration {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %q is not a duration (try 500ms or 5s)", key, v))
		return def
	}
	return d
}

// Bool returns the boolean value of key, or def.
func (r *Reader) Bool(key string, def bool) bool {
	v, ok := r.lookup(key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s: %q is not true or false", key, v))
		return def
	}
	return b
}

// Known marks keys as valid without reading them (read elsewhere, such as by the dev stack).
func (r *Reader) Known(keys ...string) {
	for _, k := range keys {
		r.known[k] = true
	}
}

// Keys returns every key asked for so far.
func (r *Reader) Keys() []string {
	keys := make([]string, 0, len(r.known))
	for k := range r.known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Err reports every problem found so far plus every PUSHPIPE_* variable in
// environ that was never asked for. Call it after reading all keys.
func (r *Reader) Err(environ []string) error {
	errs := append([]error(nil), r.errs...)
	var unknown []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, Prefix) && !r.known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs = append(errs, fmt.Errorf("%s: unknown setting (see the configuration table in README.md)", k))
	}
	return errors.Join(errs...)
}
