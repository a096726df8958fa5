package domain

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// KindVulnerabilityScan is a record Candor writes itself, never imported
// (it is not in Kinds): that a full vulnerability scan of a target ran
// (package importer, from a Trivy, Grype or SARIF report). A full scan
// says what is open now, so its time is vulnerability data (SPEC §4) even
// when it changes no finding's record: a daily scan reporting the same
// findings keeps the vulnerability metrics fresh, and an organisation whose
// scans are clean has data. A partial scan writes none.
const KindVulnerabilityScan Kind = "vulnerability_scan"

// Internal lists the kinds Candor writes itself, in a stable order: never
// imported (ParseKind refuses them), yet stored, written, imaged and
// applied like any record.
var Internal = []Kind{KindRetroValidation, KindVulnerabilityScan}

// AllKinds is Kinds and then Internal: every kind a store can hold.
func AllKinds() []Kind {
	return append(append(make([]Kind, 0, len(Kinds)+len(Internal)), Kinds...), Internal...)
}

// VulnerabilityScan says that Scanner scanned Target in full at ScannedAt
// and reported Findings findings of a Candor severity. Its Meta.ID is the
// target's key in the finding ids, "@" and the scan time (RFC 3339, UTC),
// so the same report imported again is the same record.
type VulnerabilityScan struct {
	Meta
	Scanner   string    `json:"scanner"`
	Target    string    `json:"target"`
	Service   string    `json:"service,omitempty"`
	ScannedAt time.Time `json:"scanned_at"`
	Findings  int       `json:"findings"`
}

func (*VulnerabilityScan) Kind() Kind             { return KindVulnerabilityScan }
func (r *VulnerabilityScan) EventTime() time.Time { return r.ScannedAt }

// Check validates the record as ParseFields validates an imported one:
// every problem, each naming its field (FieldErrors), or nil.
func (r *VulnerabilityScan) Check() error {
	var errs FieldErrors
	text := func(field, v string, max int, required bool) {
		switch {
		case strings.TrimSpace(v) == "":
			if required {
				errs = append(errs, &FieldError{Field: field, Reason: "required"})
			}
		case !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0:
			errs = append(errs, &FieldError{Field: field, Reason: "is not valid UTF-8 text without NUL characters"})
		case len(v) > max:
			errs = append(errs, &FieldError{Field: field, Reason: "is " + strconv.Itoa(len(v)) + " bytes long; " + boundText(max)})
		}
	}
	text("id", r.ID, MaxName, true)
	text("source", r.Source, MaxName, true)
	text("scanner", r.Scanner, MaxName, true)
	text("target", r.Target, MaxText, true)
	text("service", r.Service, MaxName, false)
	if r.ScannedAt.IsZero() {
		errs = append(errs, &FieldError{Field: "scanned_at", Reason: "required"})
	}
	if r.Findings < 0 {
		errs = append(errs, &FieldError{Field: "findings", Reason: "is " + strconv.Itoa(r.Findings) + "; a count is not negative"})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
