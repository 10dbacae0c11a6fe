package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// fuzzResult counts a fuzz run: operations tested, cases sent, and the
// distinct failures (by operation, check and message) of the checks.
type fuzzResult struct {
	operations     map[string]bool // "METHOD /path" tested (not skipped)
	cases          int
	serverErrors   int
	specViolations int
	errors         int      // schemathesis itself failed to run a pass to the end
	failures       []string // one line per distinct failure
}

func (r fuzzResult) ok() bool { return r.serverErrors == 0 && r.specViolations == 0 && r.errors == 0 }

// add merges two passes; an operation tested by both counts once.
func (r fuzzResult) add(o fuzzResult) fuzzResult {
	ops := make(map[string]bool, len(r.operations)+len(o.operations))
	for k := range r.operations {
		ops[k] = true
	}
	for k := range o.operations {
		ops[k] = true
	}
	return fuzzResult{
		operations: ops, cases: r.cases + o.cases, serverErrors: r.serverErrors + o.serverErrors,
		specViolations: r.specViolations + o.specViolations, errors: r.errors + o.errors,
		failures: append(append([]string(nil), r.failures...), o.failures...),
	}
}

func (r fuzzResult) String() string {
	return fmt.Sprintf("api-fuzz: operations=%d cases=%d server_errors=%d spec_violations=%d",
		len(r.operations), r.cases, r.serverErrors, r.specViolations)
}

// ndjsonScenario is the part of a ScenarioFinished event of schemathesis'
// NDJSON report that the counts need.
type ndjsonScenario struct {
	Status   string `json:"status"`
	Recorder struct {
		Label  string `json:"label"`
		Checks map[string][]struct {
			Name        string `json:"name"`
			Status      string `json:"status"`
			FailureInfo *struct {
				Failure struct {
					Code    string `json:"code"`
					Title   string `json:"title"`
					Message string `json:"message"`
				} `json:"failure"`
			} `json:"failure_info"`
		} `json:"checks"`
	} `json:"recorder"`
}

// ndjsonError is a NonFatalError event: schemathesis itself failed on an
// operation (not a finding about the API, but the operation went untested).
type ndjsonError struct {
	Label string `json:"label"`
	Value struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"value"`
}

// readFuzzReport counts the NDJSON report schemathesis wrote in dir.
func readFuzzReport(dir string) (fuzzResult, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil || len(paths) != 1 {
		return fuzzResult{}, fmt.Errorf("schemathesis wrote no single NDJSON report in %s (found %d)", dir, len(paths))
	}
	f, err := os.Open(paths[0])
	if err != nil {
		return fuzzResult{}, fmt.Errorf("open the report: %w", err)
	}
	defer func() { _ = f.Close() }()
	return countFuzzReport(f)
}

// countFuzzReport reads an NDJSON report: a case is counted once however
// many scenarios mention it, a failure once per (operation, check, message).
func countFuzzReport(r io.Reader) (fuzzResult, error) {
	res := fuzzResult{operations: map[string]bool{}}
	cases, failures := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	for sc.Scan() {
		var ev struct {
			Scenario *ndjsonScenario `json:"ScenarioFinished"`
			Error    *ndjsonError    `json:"NonFatalError"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fuzzResult{}, fmt.Errorf("read the report: %w", err)
		}
		if e := ev.Error; e != nil {
			res.errors++
			res.failures = append(res.failures, fmt.Sprintf("%s [schemathesis error] %s: %s", e.Label, e.Value.Type, e.Value.Message))
		}
		s := ev.Scenario
		if s == nil || s.Status == "skip" {
			continue
		}
		res.operations[s.Recorder.Label] = true
		for id, checks := range s.Recorder.Checks {
			cases[id] = true
			for _, c := range checks {
				if c.Status != "failure" {
					continue
				}
				var what string
				if c.FailureInfo != nil {
					fl := c.FailureInfo.Failure
					what = fl.Code + " " + fl.Title + ": " + strings.ReplaceAll(fl.Message, "\n", "; ")
				}
				key := s.Recorder.Label + " [" + c.Name + "] " + what
				if failures[key] {
					continue
				}
				failures[key] = true
				if c.Name == "not_a_server_error" {
					res.serverErrors++
				} else {
					res.specViolations++
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fuzzResult{}, fmt.Errorf("read the report: %w", err)
	}
	if len(res.operations) == 0 {
		return fuzzResult{}, errors.New("the report names no tested operation")
	}
	res.cases = len(cases)
	res.failures = append(res.failures, sortedKeys(failures)...)
	sort.Strings(res.failures)
	return res, nil
}
