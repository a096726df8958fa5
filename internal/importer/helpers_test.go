package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

var newStore = sqlitetest.Open

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// file is an input named like a file on disk.
type file struct {
	name string
	data []byte
}

func fix(t testing.TB, name string) file { return file{name, fixture(t, name)} }

func run(t *testing.T, st store.Store, format Format, opt Options, files ...file) (*Report, error) {
	t.Helper()
	var srcs []ingest.Source
	for _, f := range files {
		srcs = append(srcs, ingest.Source{Name: f.name, Reader: bytes.NewReader(f.data)})
	}
	return Import(context.Background(), st, format, srcs, opt, ingest.Options{})
}

func mustRun(t *testing.T, st store.Store, format Format, opt Options, files ...file) *Report {
	t.Helper()
	rep, err := run(t, st, format, opt, files...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// invalid expects an import refused for invalid input and returns its
// problems.
func invalid(t *testing.T, err error) *ingest.InvalidError {
	t.Helper()
	var ie *ingest.InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want invalid records", err)
	}
	return ie
}

// stored returns the records of a kind by id.
func stored[T domain.Record](t *testing.T, st store.Store, kind domain.Kind) map[string]T {
	t.Helper()
	out := map[string]T{}
	_, err := st.Scan(context.Background(), 0, func(r store.Stored) error {
		if r.Key.Kind != kind {
			return nil
		}
		rec := domain.New(kind)
		if err := json.Unmarshal(r.Body, rec); err != nil {
			return err
		}
		out[r.Key.ID] = rec.(T)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func total(t *testing.T, st store.Store) int64 {
	t.Helper()
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// wantProblem checks that some problem of ie names file, where (a line
// like ":3" or a JSON path) and field, with reason containing text.
func wantProblem(t *testing.T, ie *ingest.InvalidError, where, field, text string) {
	t.Helper()
	for _, l := range ie.Lines {
		if strings.Contains(l.Error(), where) && l.Field == field && strings.Contains(l.Reason, text) {
			return
		}
	}
	t.Fatalf("no problem at %q, field %q, saying %q in:\n%v", where, field, text, ie)
}
