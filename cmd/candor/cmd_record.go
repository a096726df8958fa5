package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/web"
)

func init() {
	register(command{name: "record", args: "KIND SOURCE ID [flags]", help: "one stored record with its provenance (raw input hash, ingestion time, store sequence)", run: runRecord})
}

func runRecord(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "record", "KIND SOURCE ID|KIND SOURCE/ID [flags]", "Shows one stored record, field by field, and where it came from: the sha256 of the raw input it was\n"+
		"made from, the sha256 of its canonical body, when it was ingested and its store sequence. A drill-down\n"+
		"(candor metric ID) names its records as KIND SOURCE/ID.")
	var c common
	c.bind(fs)
	format := fs.String("format", "text", "text or json")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	// candor metric names its records KIND SOURCE/ID: taken as given.
	if len(rest) == 2 {
		if source, id, ok := strings.Cut(rest[1], "/"); ok && source != "" && id != "" {
			rest = []string{rest[0], source, id}
		}
	}
	if len(rest) != 3 {
		return usagef("give KIND SOURCE ID (or KIND SOURCE/ID, as candor metric names records), e.g. candor record deployment import d42")
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	kind, err := domain.ParseStoredKind(rest[0])
	if err != nil {
		return usagef("%v", err)
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := web.LookupRecord(ctx, a.store, domain.Key{Kind: kind, Source: rest[1], ID: rest[2]}, nil)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, rec)
	}
	return writeRecordText(env.Stdout, rec)
}

// writeRecordText lists the record's fields in their canonical order, then
// its provenance.
func writeRecordText(w io.Writer, rec *web.StoredRecord) error {
	fmt.Fprintf(w, "%s %s/%s\n", rec.Kind, rec.Source, rec.ID)
	dec := json.NewDecoder(bytes.NewReader(rec.Record))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("stored record body is not a JSON object")
	}
	var start time.Time
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("stored record body: %w", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("stored record body: %w", err)
		}
		text := fieldText(raw)
		// A period's end is exclusive: said as the record page says it,
		// beside the stored instant, which is what was sent (the start
		// comes first in the canonical order).
		t, terr := time.Parse(time.RFC3339Nano, text)
		if terr == nil && tok == "period_start" {
			start = t
		}
		if terr == nil && tok == "period_end" {
			if day, ok := scorecard.PeriodEndText(start, t); ok {
				text += " (until then: the period's last day is " + day + ")"
			}
		}
		fmt.Fprintf(w, "  %-26s %s\n", tok, text)
	}
	p := rec.Provenance
	raw := "not kept (stored before Candor kept raw hashes)"
	if p.RawSHA256 != nil {
		raw = *p.RawSHA256
	}
	event := "none (reference data)"
	if p.EventTime != nil {
		event = p.EventTime.Format(time.RFC3339Nano)
	}
	canonical := p.CanonicalSHA256
	if !p.BodyMatchesHash {
		canonical += " (the body above no longer matches it: changed in the database after it was written)"
	}
	fmt.Fprintf(w, "Provenance:\n  %-26s %s\n  %-26s %s\n  %-26s %s\n  %-26s %d\n  %-26s %s\n",
		"raw input sha256", raw, "canonical sha256", canonical,
		"ingested at", p.IngestedAt.Format(time.RFC3339Nano), "store sequence", p.Seq, "event time", event)
	if r := p.RedactedBy; r != nil {
		fmt.Fprintf(w, "  %-26s by retention on %s (ledger entry %d): customer identifiers pseudonymised, personal text erased;\n  %-26s the raw input sha256 names the input before it\n",
			"redacted", r.At.Format(time.RFC3339), r.Seq, "")
	}
	return nil
}

// fieldText shows a string without its quotes and a list as its items;
// anything else as its JSON.
func fieldText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, "; ")
	}
	return string(raw)
}
