package domain

import (
	"errors"
	"strings"
	"testing"
)

// The timestamps other tools export as they are, and what a switcher sees
// (docs/switching.md, "Import stumbles"): the error names the field, quotes
// the value and shows the expected RFC 3339 form, in NDJSON and CSV alike.
func TestPeerExportTimestampsNameTheFieldAndTheForm(t *testing.T) {
	const form = "2026-03-01T12:00:00Z"
	cases := []struct {
		name, json, csv string // the value as a JSON literal and as a CSV cell
	}{
		// DevLake's domain tables are MySQL DATETIME columns.
		{"DevLake / MySQL DATETIME", `"2026-03-01 12:00:00"`, "2026-03-01 12:00:00"},
		// Four Keys' tables are BigQuery TIMESTAMPs, printed with " UTC".
		{"Four Keys / BigQuery TIMESTAMP", `"2026-03-01 12:00:00 UTC"`, "2026-03-01 12:00:00 UTC"},
		// Middleware's PostgreSQL timestamptz text form.
		{"Middleware / PostgreSQL timestamptz", `"2026-03-01 12:00:00+00"`, "2026-03-01 12:00:00+00"},
		// Baremetrics' and Stripe's APIs give Unix seconds.
		{"Baremetrics / Unix seconds", `1772366400`, "1772366400"},
		// A date alone, as spreadsheets export it.
		{"a date alone", `"2026-03-01"`, "2026-03-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line := `{"kind":"deployment","id":"d1","service":"web","environment":"production","status":"success","finished_at":` + c.json + `}`
			_, err := ParseJSON([]byte(line), "", ParseOptions{})
			checkTimestampError(t, "NDJSON", err, strings.Trim(c.json, `"`), form)

			f := Fields{
				"id": {Raw: []byte("d1"), Text: true}, "service": {Raw: []byte("web"), Text: true},
				"environment": {Raw: []byte("production"), Text: true}, "status": {Raw: []byte("success"), Text: true},
				"finished_at": {Raw: []byte(c.csv), Text: true},
			}
			_, err = ParseFields(f, KindDeployment, ParseOptions{})
			checkTimestampError(t, "CSV", err, c.csv, form)
		})
	}
}

func checkTimestampError(t *testing.T, format string, err error, value, form string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: err = %v, want a FieldError", format, err)
	}
	if fe.Field != "finished_at" {
		t.Errorf("%s: field = %q, want finished_at (%v)", format, fe.Field, err)
	}
	for _, want := range []string{value, "RFC 3339", form} {
		if !strings.Contains(fe.Reason, want) {
			t.Errorf("%s: reason %q lacks %q", format, fe.Reason, want)
		}
	}
}

// A deployment without environment is refused by name: DevLake's and Four
// Keys' deployment tables have no environment column to copy (Four Keys'
// are all production), so switchers must add it.
func TestPeerExportWithoutEnvironment(t *testing.T) {
	line := `{"kind":"deployment","id":"d1","service":"web","finished_at":"2026-03-01T12:00:00Z","status":"success"}`
	_, err := ParseJSON([]byte(line), "", ParseOptions{})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "environment" || fe.Reason != "required" {
		t.Fatalf("err = %v, want field environment: required", err)
	}
}
