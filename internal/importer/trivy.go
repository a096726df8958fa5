package importer

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/candor/candor/internal/ingest"
)

// trivyReport is the part of a Trivy JSON report (SchemaVersion 2) that
// maps to vulnerabilities; misconfigurations, secrets and licences are
// not vulnerabilities and are left out.
type trivyReport struct {
	SchemaVersion int
	CreatedAt     string
	ArtifactName  string
	Results       []struct {
		Target          string
		Class           string
		Type            string
		Vulnerabilities []json.RawMessage
	}
}

type trivyVuln struct {
	VulnerabilityID string
	PkgName         string
	PkgPath         string
	Severity        string
	PrimaryURL      string
}

// parseTrivy reads a Trivy JSON report: one full scan of ArtifactName.
func parseTrivy(file string, data []byte, opt ScanOptions) ([]*scan, error) {
	var rep trivyReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, reportError(file, "Trivy JSON report", err)
	}
	if rep.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s: SchemaVersion %d: only Trivy's JSON report format 2 is read (trivy --format json)", file, rep.SchemaVersion)
	}
	at, err := scanTime(file, opt, "CreatedAt", rep.CreatedAt)
	if err != nil {
		return nil, err
	}
	target, err := scanTarget(file, opt, "ArtifactName", rep.ArtifactName)
	if err != nil {
		return nil, err
	}
	s := &scan{file: file, tool: "trivy", target: target, at: at, full: true, raw: sha256.Sum256(data)}
	for i, res := range rep.Results {
		for j, raw := range res.Vulnerabilities {
			w := where{file: file, path: fmt.Sprintf("$.Results[%d].Vulnerabilities[%d]", i, j)}
			var v trivyVuln
			if bad := decodeItem(raw, &v, w); bad != nil {
				s.problems = append(s.problems, *bad)
				continue
			}
			var missing []ingest.LineError
			if v.VulnerabilityID == "" {
				missing = append(missing, w.problem("VulnerabilityID", "required"))
			}
			if v.PkgName == "" {
				missing = append(missing, w.problem("PkgName", "required"))
			}
			if missing != nil {
				s.problems = append(s.problems, ingest.Entry{Problems: missing})
				continue
			}
			// OS packages are one per image whatever the OS release in the
			// result's Target ("alpine 3.9.4"), so an upgraded base image
			// keeps its findings; a language package is one per lock file.
			place := res.Target
			if res.Class == "os-pkgs" {
				place = ""
			}
			s.found = append(s.found, finding{
				at:       w,
				identity: res.Class + "\x00" + res.Type + "\x00" + place + "\x00" + v.PkgPath + "\x00" + v.PkgName,
				vuln:     v.VulnerabilityID,
				severity: v.Severity,
				sevField: "Severity",
				pkg:      v.PkgName,
				cve:      cveOf(v.VulnerabilityID),
				url:      v.PrimaryURL,
				raw:      sha256.Sum256(raw),
			})
		}
	}
	return []*scan{s}, nil
}
