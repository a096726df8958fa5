// Package importer maps the files other tools export onto Candor's records
// (SPEC §1): FOCUS cost and usage reports, SARIF 2.1.0, Trivy and Grype
// vulnerability scans, and Salesforce and HubSpot opportunity exports. It
// only maps: the records go through ingest, the one way records reach the
// store, so these files obey the same rules as Candor's own format — every
// problem named by file, line (or JSON path) and field, all or nothing
// unless invalid input is to be skipped, and a re-import that changes
// nothing.
package importer

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/store"
)

// Format names a kind of file another tool writes.
type Format string

const (
	FOCUS      Format = "focus"
	SARIF      Format = "sarif"
	Trivy      Format = "trivy"
	Grype      Format = "grype"
	Salesforce Format = "salesforce"
	HubSpot    Format = "hubspot"
)

// Formats lists the formats in the order the documentation gives them.
var Formats = []Format{FOCUS, SARIF, Trivy, Grype, Salesforce, HubSpot}

// ParseFormat accepts a format name, case-insensitively.
func ParseFormat(s string) (Format, bool) {
	for _, f := range Formats {
		if strings.EqualFold(strings.TrimSpace(s), string(f)) {
			return f, true
		}
	}
	return "", false
}

// Options say how files map onto records.
type Options struct {
	// Source is the records' source (SPEC §1); default the format's name,
	// so that re-importing a file replaces what it stored before and
	// records from different tools never collide.
	Source string
	// Parse supplies the default currency for files without one.
	Parse domain.ParseOptions
	// Location is the time zone of timestamps written without an offset
	// (CRM exports write local times); nil means UTC.
	Location *time.Location
	// SlashDates allows dates written with slashes: "mdy" reads 4/1/25 as
	// 1 April 2025, "dmy" as 4 January. Empty refuses them, since nothing
	// in the file says which is meant.
	SlashDates string
	FOCUS      FOCUSOptions
	Scan       ScanOptions
	CRM        CRMOptions
}

// Report is what an import did: ingest's summary, and what the mapping
// left out or changed that a reader must know about (findings skipped for
// their severity, findings closed by a later scan).
type Report struct {
	*ingest.Summary
	Notes []string
}

// Import maps files of one format to records and imports them as one
// all-or-nothing import through ingest. Scan formats read the target's
// stored findings from st first, to close those a later scan no longer
// reports.
func Import(ctx context.Context, st store.Store, format Format, files []ingest.Source, opt Options, iopt ingest.Options) (*Report, error) {
	if opt.Source == "" {
		opt.Source = string(format)
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if err := opt.Check(); err != nil {
		return nil, err
	}
	rep := &Report{}
	var feed func(add func(ingest.Entry) error) error
	switch format {
	case FOCUS, Salesforce, HubSpot:
		read := map[Format]func(string, io.Reader, Options, int, func(ingest.Entry) error) error{
			FOCUS: readFOCUS, Salesforce: readSalesforce, HubSpot: readHubSpot,
		}[format]
		feed = func(add func(ingest.Entry) error) error {
			for _, f := range files {
				if err := eachFile(f, func(r io.Reader) error { return read(f.Name, r, opt, iopt.MaxLine, add) }); err != nil {
					return err
				}
			}
			return nil
		}
	case SARIF, Trivy, Grype:
		entries, notes, err := scanEntries(ctx, st, format, files, opt)
		if err != nil {
			return nil, err
		}
		rep.Notes = notes
		feed = func(add func(ingest.Entry) error) error {
			for _, e := range entries {
				if err := add(e); err != nil {
					return err
				}
			}
			return nil
		}
	default:
		return nil, fmt.Errorf("unknown format %q (known: %s)", format, formatList())
	}
	sum, err := ingest.ImportEntries(ctx, st, iopt, feed)
	rep.Summary = sum
	if err != nil {
		return rep, err
	}
	return rep, nil
}

func formatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Check validates and normalises the options (Import calls it too), so a
// caller can refuse bad options before opening anything. A bad value is a
// *domain.Error whose Param names the option (slash_dates, cost_column,
// severity), for the caller to name the flag or key that gave it.
func (o *Options) Check() error {
	switch o.SlashDates {
	case "", "mdy", "dmy":
	default:
		return domain.InvalidParam("slash_dates", "%q: use mdy or dmy", o.SlashDates)
	}
	if err := o.FOCUS.check(); err != nil {
		return err
	}
	return o.Scan.check()
}

// eachFile hands fn the file's content, gunzipped when its name ends in
// .gz (cloud cost exports are usually delivered compressed).
func eachFile(f ingest.Source, fn func(io.Reader) error) error {
	if !strings.HasSuffix(strings.ToLower(f.Name), ".gz") {
		return fn(f.Reader)
	}
	gz, err := gzip.NewReader(f.Reader)
	if err != nil {
		return fmt.Errorf("%s: not gzip: %w", f.Name, err)
	}
	defer gz.Close()
	return fn(gz)
}
