package importer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

// The fuzz targets feed each parser arbitrary input, seeded with the real
// files (the seeds run in the normal test suite). Whatever the input, a
// parser must not panic, and what it hands ingest must be either a valid
// record, as the record parser reads it back, or problems that say where
// in the input they are.

// checkEntries checks what a parser produced from the file named name.
func checkEntries(t *testing.T, name string, entries []ingest.Entry, err error) {
	t.Helper()
	if err != nil && !strings.Contains(err.Error(), name) {
		t.Fatalf("error %q does not name the file", err)
	}
	for _, e := range entries {
		if e.Record == nil {
			if len(e.Problems) == 0 {
				t.Fatalf("entry with neither record nor problems")
			}
			for _, p := range e.Problems {
				if p.File != name || (p.Line <= 0 && p.Path == "") || p.Reason == "" {
					t.Fatalf("problem %+v does not say where it is and why", p)
				}
			}
			continue
		}
		if len(e.Problems) > 0 {
			t.Fatalf("record %v with problems %v", domain.KeyOf(e.Record), e.Problems)
		}
		body, err := json.Marshal(e.Record)
		if err != nil {
			t.Fatal(err)
		}
		var back domain.Record
		if scan, ok := e.Record.(*domain.VulnerabilityScan); ok {
			// Candor's own record, never imported: valid by its Check,
			// and read back as a stored one is.
			if err := scan.Check(); err != nil {
				t.Fatalf("scan record %s: %v", body, err)
			}
			back = domain.New(scan.Kind())
			err = json.Unmarshal(body, back)
		} else {
			back, err = domain.ParseJSON(body, e.Record.Kind(), domain.ParseOptions{})
		}
		if err != nil {
			t.Fatalf("record %s does not read back: %v", body, err)
		}
		if !reflect.DeepEqual(back, e.Record) {
			t.Fatalf("record %s reads back as %+v", body, back)
		}
	}
}

func collect(read func(add func(ingest.Entry) error) error) ([]ingest.Entry, error) {
	var out []ingest.Entry
	err := read(func(e ingest.Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

func fuzzCSV(f *testing.F, format Format, read func(string, []byte, Options) ([]ingest.Entry, error), seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Source: string(format), SlashDates: "mdy"}
		if err := opt.Check(); err != nil {
			t.Fatal(err)
		}
		entries, err := read("fuzz.csv", data, opt)
		checkEntries(t, "fuzz.csv", entries, err)
	})
}

func FuzzFOCUS(f *testing.F) {
	fuzzCSV(f, FOCUS, func(name string, data []byte, opt Options) ([]ingest.Entry, error) {
		opt.FOCUS.ServiceTag = "app"
		return collect(func(add func(ingest.Entry) error) error {
			return readFOCUS(name, bytes.NewReader(data), opt, 1<<20, add)
		})
	}, fixture(f, commitmentCSV), fixture(f, a2CSV), []byte(requestsCSV))
}

func FuzzSalesforce(f *testing.F) {
	fuzzCSV(f, Salesforce, func(name string, data []byte, opt Options) ([]ingest.Entry, error) {
		return collect(func(add func(ingest.Entry) error) error {
			return readSalesforce(name, bytes.NewReader(data), opt, 1<<20, add)
		})
	}, fixture(f, "salesforce.opportunities.csv"))
}

func FuzzHubSpot(f *testing.F) {
	fuzzCSV(f, HubSpot, func(name string, data []byte, opt Options) ([]ingest.Entry, error) {
		opt.CRM.QualifiedFrom = "created"
		return collect(func(add func(ingest.Entry) error) error {
			return readHubSpot(name, bytes.NewReader(data), opt, 1<<20, add)
		})
	}, fixture(f, "hubspot.deals.csv"))
}

// fuzzScan parses a report and maps it against no stored findings, then
// against the findings of a first pass (as a second scan would).
func fuzzScan(f *testing.F, format Format, parse scanParser, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{Source: string(format), Scan: ScanOptions{Target: "t", ScannedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}}
		if err := opt.Check(); err != nil {
			t.Fatal(err)
		}
		scans, err := parse("fuzz.json", data, opt.Scan)
		if err != nil {
			checkEntries(t, "fuzz.json", nil, err)
			return
		}
		sev := map[Format]map[string]string{SARIF: sarifLevels, Trivy: trivySeverities, Grype: grypeSeverities}[format]
		a := &applier{opt: opt, sev: sev, state: map[string]episodes{}, out: map[string]int{}}
		for _, s := range scans {
			a.apply(s)
		}
		checkEntries(t, "fuzz.json", a.entries, nil)
		a.entries, a.out = nil, map[string]int{}
		for _, s := range scans {
			s.at = s.at.Add(time.Hour)
			s.found = nil
			a.apply(s)
		}
		checkEntries(t, "fuzz.json", a.entries, nil)
	})
}

func FuzzTrivy(f *testing.F) {
	fuzzScan(f, Trivy, parseTrivy, fixture(f, alpine39), fixture(f, gomod))
}

func FuzzGrype(f *testing.F) {
	fuzzScan(f, Grype, parseGrype, fixture(f, grypeReal), fixture(f, grypeSnap))
}

func FuzzSARIF(f *testing.F) {
	fuzzScan(f, SARIF, parseSARIF, fixture(f, trivySARIF), fixture(f, njsscan), fixture(f, appendixK2))
}
