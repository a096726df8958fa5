package importer

import (
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

// where locates a piece of input for its problems: a file and a line
// (CSV), or a file and a JSON path (scan reports).
type where struct {
	file string
	line int
	path string
}

func (w where) problem(field, format string, args ...any) ingest.LineError {
	return ingest.LineError{File: w.file, Line: w.line, Path: w.path, Field: field, Reason: sprintf(format, args...)}
}

// fieldSet gathers one record's fields under Candor's names, remembering
// which column or JSON member each came from, so that the record is
// validated by the same parser as Candor's own format while a problem
// names what the user can find in their file.
type fieldSet struct {
	f    domain.Fields
	from map[string]string
	// failed holds the problems found before validation (a date the
	// mapping could not read), by Candor field.
	failed map[string]ingest.LineError
	order  []string
}

func newFields() *fieldSet {
	return &fieldSet{f: domain.Fields{}, from: map[string]string{}}
}

// fail records that the mapping could not read the input for a field; the
// field is left absent and its "required" is not reported on top.
func (s *fieldSet) fail(name string, problem ingest.LineError) {
	if s.failed == nil {
		s.failed = map[string]ingest.LineError{}
	}
	if _, ok := s.failed[name]; !ok {
		s.order = append(s.order, name)
	}
	s.failed[name] = problem
}

// text sets a field from text (a CSV cell, a JSON string's value); a
// blank value leaves it absent, but a "required" still names its column.
func (s *fieldSet) text(name, from, v string) {
	if from != "" {
		s.from[name] = from
	}
	if strings.TrimSpace(v) == "" {
		return
	}
	s.f[name] = domain.Value{Raw: []byte(v), Text: true}
}

// json sets a field from a JSON value as written (FOCUS tags, an object).
func (s *fieldSet) json(name, from string, raw []byte) {
	s.f[name] = domain.Value{Raw: raw}
	s.from[name] = from
}

func (s *fieldSet) time(name, from string, t time.Time) {
	if t.IsZero() {
		s.text(name, from, "")
		return
	}
	s.text(name, from, t.UTC().Format(time.RFC3339Nano))
}

func (s *fieldSet) bool(name, from string, b bool) {
	if b {
		s.text(name, from, "true")
	} else {
		s.text(name, from, "false")
	}
}

// parse validates the record with SPEC §1's rules. Each problem names the
// input's column or member, and the Candor field it was to fill where the
// names differ.
func (s *fieldSet) parse(kind domain.Kind, popt domain.ParseOptions, at where) (domain.Record, []ingest.LineError) {
	var out []ingest.LineError
	for _, name := range s.order {
		out = append(out, s.failed[name])
	}
	rec, err := domain.ParseFields(s.f, kind, popt)
	if err == nil {
		if len(out) > 0 {
			return nil, out
		}
		return rec, nil
	}
	ps := domain.Problems(err)
	if len(ps) == 0 {
		return nil, append(out, at.problem("", "%v", err))
	}
	for _, fe := range ps {
		field, reason := fe.Field, fe.Reason
		base := field
		if i := strings.IndexAny(base, ".["); i > 0 {
			base = base[:i]
		}
		if _, ok := s.failed[base]; ok {
			continue
		}
		if from, ok := s.from[base]; ok && from != base {
			field, reason = from, reason+" (Candor field "+fe.Field+")"
		}
		out = append(out, at.problem(field, "%s", reason))
	}
	return nil, out
}
