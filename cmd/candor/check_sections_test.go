package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite"
)

// TestTokenCreateChecksSectionsOfTheirOwn: on a store whose initial set
// was recorded before sections were governed (the sections recorded
// later, in a document of their own), candor token create and candor
// user refuse a configuration whose views no approval put in force, as a
// start does. They had compared no such section and then checked roles
// against the file's views.
func TestTokenCreateChecksSectionsOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := writerIn(t, dir)
	data := filepath.Join(dir, "data")
	const view = "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr]\n"
	first := write("first.yaml", view)
	other := write("other.yaml", strings.Replace(view, "[mttr]", "[mttr, change_failure_rate]", 1))
	// The store and its ledger key, nothing recorded yet.
	mustRun(t, "user", "add", "--email", "root@example.com", "--role", "admin", "--generate-password", "--data", data, "--config", first)

	// The initial set as a release before governed sections recorded it.
	cfg, err := config.Load(first, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data = data
	key, _, _, err := cfg.LedgerKey()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	st.SetSealer(ledger.NewSealer(key))
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	in := governance.Initial{Metrics: cfg.Metrics, Source: first}
	if in.Settings, err = cfg.Governed(); err != nil {
		t.Fatal(err)
	}
	err = (&governance.Registry{Docs: st, Catalog: base.Governed(), Config: cfg}).Init(ctx, in)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	// This start records the sections, in a document of their own.
	mustRun(t, "scorecard", "--data", data, "--config", first)
	r := run(t, "scorecard", "--data", data, "--config", other)
	r.want(t, 2, "a start with other views")
	if !strings.Contains(r.stderr, "changes sections recorded at first start") || !strings.Contains(r.stderr, "views") {
		t.Errorf("the start's refusal: %s", r.stderr)
	}
	for _, args := range [][]string{
		{"token", "create", "--name", "ci2", "--role", "ingest"},
		{"user", "add", "--email", "ann@example.com", "--role", "executive", "--generate-password"},
	} {
		r := run(t, append(args, "--data", data, "--config", other)...)
		r.want(t, 2, args[0]+" "+args[1]+" with other views")
		if !strings.Contains(r.stderr, "changes sections recorded at first start") || !strings.Contains(r.stderr, "views") {
			t.Errorf("%s %s's refusal: %s", args[0], args[1], r.stderr)
		}
	}
	mustRun(t, "token", "create", "--name", "ci3", "--role", "ingest", "--data", data, "--config", first)
}
