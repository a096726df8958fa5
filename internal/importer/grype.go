package importer

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/candor/candor/internal/ingest"
)

// grypeReport is the part of Grype's JSON output (grype -o json) that
// maps to vulnerabilities.
type grypeReport struct {
	Matches []json.RawMessage `json:"matches"`
	Source  struct {
		Type   string          `json:"type"`
		Target json.RawMessage `json:"target"`
	} `json:"source"`
	Descriptor struct {
		Name      string `json:"name"`
		Timestamp string `json:"timestamp"`
	} `json:"descriptor"`
}

type grypeMatch struct {
	Vulnerability struct {
		ID             string   `json:"id"`
		Severity       string   `json:"severity"`
		DataSource     string   `json:"dataSource"`
		URLs           []string `json:"urls"`
		KnownExploited []any    `json:"knownExploited"`
	} `json:"vulnerability"`
	RelatedVulnerabilities []struct {
		ID string `json:"id"`
	} `json:"relatedVulnerabilities"`
	Artifact struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"artifact"`
}

// parseGrype reads a Grype JSON report: one full scan of its source.
func parseGrype(file string, data []byte, opt ScanOptions) ([]*scan, error) {
	var rep grypeReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, reportError(file, "Grype JSON report", err)
	}
	if rep.Matches == nil && rep.Descriptor.Name == "" {
		return nil, fmt.Errorf("%s: not a Grype JSON report (no matches, no descriptor; grype -o json writes both)", file)
	}
	at, err := scanTime(file, opt, "descriptor.timestamp", rep.Descriptor.Timestamp)
	if err != nil {
		return nil, err
	}
	target, err := scanTarget(file, opt, "source.target", grypeTarget(rep.Source.Target))
	if err != nil {
		return nil, err
	}
	s := &scan{file: file, tool: "grype", target: target, at: at, full: true, raw: sha256.Sum256(data)}
	for i, raw := range rep.Matches {
		w := where{file: file, path: fmt.Sprintf("$.matches[%d]", i)}
		var m grypeMatch
		if bad := decodeItem(raw, &m, w); bad != nil {
			s.problems = append(s.problems, *bad)
			continue
		}
		var missing []ingest.LineError
		if m.Vulnerability.ID == "" {
			missing = append(missing, w.problem("vulnerability.id", "required"))
		}
		if m.Artifact.Name == "" {
			missing = append(missing, w.problem("artifact.name", "required"))
		}
		if missing != nil {
			s.problems = append(s.problems, ingest.Entry{Problems: missing})
			continue
		}
		ids := []string{m.Vulnerability.ID}
		for _, r := range m.RelatedVulnerabilities {
			ids = append(ids, r.ID)
		}
		url := m.Vulnerability.DataSource
		if url == "" && len(m.Vulnerability.URLs) > 0 {
			url = m.Vulnerability.URLs[0]
		}
		s.found = append(s.found, finding{
			at:       w,
			identity: m.Artifact.Type + "\x00" + m.Artifact.Name,
			vuln:     m.Vulnerability.ID,
			severity: m.Vulnerability.Severity,
			sevField: "vulnerability.severity",
			pkg:      m.Artifact.Name,
			cve:      cveOf(ids...),
			url:      url,
			kev:      len(m.Vulnerability.KnownExploited) > 0,
			raw:      sha256.Sum256(raw),
		})
	}
	return []*scan{s}, nil
}

// grypeTarget is what the user asked Grype to scan: an image's userInput
// (e.g. "busybox:1.32.1"), or the path of a directory or file source.
func grypeTarget(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		UserInput string `json:"userInput"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.UserInput
	}
	return ""
}
