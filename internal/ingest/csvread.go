package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// ReadCSV reads CSV input with Import's rules, for Import itself and for
// connectors that map other tools' CSV exports: a leading byte-order mark
// is dropped; every header column must have a name, once; one record is
// bounded by maxLine bytes (an unclosed quote would otherwise gather the
// rest of the file into memory); and a row the reader cannot split (a bad
// quote, a wrong number of fields) goes to bad with its line, and reading
// goes on with the next line, so every problem is reported at once.
//
// header gets the trimmed column names; an error from it ends the read.
// row gets each record's first line and its cells, which are reused
// between calls. An empty input calls neither.
func ReadCSV(ctx context.Context, name string, r io.Reader, maxLine int, header func(cols []string) error, row func(line int, cells []string) error, bad func(LineError)) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	if b, _ := br.Peek(3); bytes.Equal(b, bom) {
		br.Discard(3)
	}
	lim := &recordLimit{r: br, max: int64(maxLine) + csvReadAhead}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	head, err := cr.Read()
	lim.start = cr.InputOffset()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return inputErrorf("%s:1: %w", name, err)
	}
	cols := make([]string, len(head))
	seen := map[string]bool{}
	for i, h := range head {
		cols[i] = strings.TrimSpace(h)
		if cols[i] == "" {
			return inputErrorf("%s:1: column %d has no name", name, i+1)
		}
		if seen[cols[i]] {
			return inputErrorf("%s:1: column %q appears twice", name, cols[i])
		}
		seen[cols[i]] = true
	}
	if err := header(cols); err != nil {
		return err
	}
	lastLine := 1 // where the last record read started
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		cells, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, errRecordTooLong) {
			return inputErrorf("%s: the record starting at byte %d (after line %d) is longer than %d bytes (an unclosed quote?)",
				name, lim.start, lastLine, maxLine)
		}
		lim.start = cr.InputOffset()
		if err != nil {
			// FieldPos is not usable here: it panics when the error came
			// before the record's first field (a bare quote in it).
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return inputErrorf("%s: %w", name, err)
			}
			// The record's first line, where the reader has to look; a
			// quoting error also says where inside the record it was found.
			reason := pe.Err.Error()
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				reason = fmt.Sprintf("%s: %d fields, the header has %d", reason, len(cells), len(cols))
			} else {
				reason = fmt.Sprintf("%s (line %d, column %d)", reason, pe.Line, pe.Column)
			}
			bad(LineError{File: name, Line: pe.StartLine, Reason: reason})
			lastLine = pe.StartLine
			// The reader resumes at the line after the error (it reads
			// whole lines; an unterminated quote runs to the end of the
			// file), so later rows are still checked and, with
			// SkipInvalid, still land rather than being dropped silently.
			continue
		}
		line, _ := cr.FieldPos(0)
		lastLine = line
		if err := row(line, cells); err != nil {
			return err
		}
	}
}

// checkColumns refuses a header of one kind's records that lacks a field
// every record needs, or names one the kind does not have: every row would
// fail the same way, so it is said once, of line 1, and the file is refused.
// first, when not 0, is the line of the first row a kind column says is of
// kind: each problem then names it, the kind being the rows' and not the
// file's.
func checkColumns(name string, kind domain.Kind, cols []string, first int) error {
	known, required := domain.KindFields(kind)
	var unknown []string
	for _, c := range cols {
		if !slices.Contains(known, c) {
			unknown = append(unknown, c)
		}
	}
	// One problem a column, as the records' are (file, line 1, field), so
	// the API's errors[] and the CLI's lines name them alike.
	var problems []LineError
	for _, f := range required {
		if slices.Contains(cols, f) {
			continue
		}
		reason := fmt.Sprintf("the header lacks this column: every %s record needs it", kind)
		if typo := domain.Closest(f, unknown); typo != "" {
			reason += fmt.Sprintf(" (the header has %q: a typo?)", typo)
			unknown = slices.DeleteFunc(unknown, func(u string) bool { return u == typo })
		}
		problems = append(problems, LineError{File: name, Line: 1, Field: f, Reason: reason})
	}
	for _, u := range unknown {
		reason := fmt.Sprintf("not a field of kind %s", kind)
		if s := domain.Closest(u, known); s != "" {
			reason += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			// The fields themselves, as an NDJSON line's unknown field gets
			// them: a marketer's export header ("utm_campaign") had been sent
			// to docs/records.md to learn what a lead may carry.
			reason += " (known: " + strings.Join(known, ", ") + ")"
		}
		problems = append(problems, LineError{File: name, Line: 1, Field: u, Reason: reason})
	}
	if len(problems) == 0 {
		return nil
	}
	if first > 0 {
		for i := range problems {
			problems[i].Reason += fmt.Sprintf("; line %d is the first %s", first, kind)
		}
	}
	return &InvalidError{Lines: problems, Header: true}
}

// RowHash is the raw hash of a CSV record: it covers the header names with
// the cells, so the same cells under another header are different input.
func RowHash(cols, cells []string) [32]byte {
	rh := sha256.New()
	for i, v := range cells {
		rh.Write([]byte(cols[i]))
		rh.Write([]byte{0})
		rh.Write([]byte(v))
		rh.Write([]byte{0})
	}
	var raw [32]byte
	rh.Sum(raw[:0])
	return raw
}

// csvReadAhead allows for what the csv reader buffers beyond the record it
// is reading.
const csvReadAhead = 64 << 10

var errRecordTooLong = errors.New("record too long")

// recordLimit stops a CSV record from growing past MaxLine: an unclosed
// quote would otherwise make the csv reader gather the rest of the file
// into one field in memory.
type recordLimit struct {
	r     io.Reader
	read  int64 // bytes handed to the csv reader
	start int64 // input offset where the record being read starts
	max   int64
}

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.read-l.start > l.max {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}
