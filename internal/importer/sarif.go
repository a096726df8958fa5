package importer

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/candor/candor/internal/ingest"
)

// sarifLog is the part of a SARIF 2.1.0 log that maps to vulnerabilities.
type sarifLog struct {
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool struct {
		Driver     sarifComponent   `json:"driver"`
		Extensions []sarifComponent `json:"extensions"`
	} `json:"tool"`
	Invocations []struct {
		ExecutionSuccessful *bool  `json:"executionSuccessful"`
		StartTimeUTC        string `json:"startTimeUtc"`
		EndTimeUTC          string `json:"endTimeUtc"`
	} `json:"invocations"`
	VersionControlProvenance []struct {
		RepositoryURI string `json:"repositoryUri"`
	} `json:"versionControlProvenance"`
	Properties struct {
		ImageName string `json:"imageName"`
	} `json:"properties"`
	// Results is absent when the tool did not say what it found, which is
	// not the same as finding nothing.
	Results *[]json.RawMessage `json:"results"`
}

type sarifComponent struct {
	Name  string      `json:"name"`
	Rules []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string `json:"id"`
	HelpURI              string `json:"helpUri"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties sarifProperties `json:"properties"`
}

// sarifProperties holds GitHub's security-severity convention: a CVSS
// score as a string.
type sarifProperties struct {
	SecuritySeverity json.RawMessage `json:"security-severity"`
}

type sarifResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      struct {
		ID            string `json:"id"`
		Index         *int   `json:"index"`
		ToolComponent struct {
			Index *int `json:"index"`
		} `json:"toolComponent"`
	} `json:"rule"`
	Kind    string `json:"kind"`
	Level   string `json:"level"`
	Message struct {
		Text      string   `json:"text"`
		ID        string   `json:"id"`
		Arguments []string `json:"arguments"`
	} `json:"message"`
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region struct {
				StartLine int `json:"startLine"`
			} `json:"region"`
		} `json:"physicalLocation"`
		LogicalLocations []struct {
			FullyQualifiedName string `json:"fullyQualifiedName"`
		} `json:"logicalLocations"`
	} `json:"locations"`
	Fingerprints        map[string]string `json:"fingerprints"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	BaselineState       string            `json:"baselineState"`
	Suppressions        []struct {
		Status string `json:"status"`
	} `json:"suppressions"`
	HostedViewerURI string          `json:"hostedViewerUri"`
	Properties      sarifProperties `json:"properties"`
}

// parseSARIF reads a SARIF 2.1.0 log: each run is one scan of a target by
// its tool.
func parseSARIF(file string, data []byte, opt ScanOptions) ([]*scan, error) {
	var log sarifLog
	if err := json.Unmarshal(data, &log); err != nil {
		return nil, reportError(file, "SARIF log", err)
	}
	if log.Version != "2.1.0" {
		return nil, fmt.Errorf("%s: version %q: only SARIF 2.1.0 is read", file, log.Version)
	}
	raw := sha256.Sum256(data)
	var scans []*scan
	for i, run := range log.Runs {
		where := fmt.Sprintf("$.runs[%d]", i)
		tool := run.Tool.Driver.Name
		if tool == "" {
			return nil, fmt.Errorf("%s: %s.tool.driver.name: required (the scanner's name)", file, where)
		}
		var when, whenField string
		for j, inv := range run.Invocations {
			switch {
			case inv.EndTimeUTC != "":
				when, whenField = inv.EndTimeUTC, fmt.Sprintf("%s.invocations[%d].endTimeUtc", where, j)
			case inv.StartTimeUTC != "":
				when, whenField = inv.StartTimeUTC, fmt.Sprintf("%s.invocations[%d].startTimeUtc", where, j)
			}
		}
		if whenField == "" {
			whenField = where + ".invocations[].endTimeUtc"
		}
		at, err := scanTime(file, opt, whenField, when)
		if err != nil {
			return nil, err
		}
		name, nameField := run.Properties.ImageName, where+".properties.imageName"
		if len(run.VersionControlProvenance) > 0 && run.VersionControlProvenance[0].RepositoryURI != "" {
			name, nameField = run.VersionControlProvenance[0].RepositoryURI, where+".versionControlProvenance[0].repositoryUri"
		}
		if name == "" {
			nameField = where + ".versionControlProvenance[0].repositoryUri"
		}
		target, err := scanTarget(file, opt, nameField, name)
		if err != nil {
			return nil, err
		}
		s := &scan{file: file, tool: tool, target: target, at: at, full: true, raw: raw}
		for _, inv := range run.Invocations {
			if inv.ExecutionSuccessful != nil && !*inv.ExecutionSuccessful {
				s.full, s.why = false, tool+" reports that its run did not succeed"
			}
		}
		if run.Results == nil {
			s.full, s.why = false, tool+" wrote no results list (its findings are unknown, not none)"
			scans = append(scans, s)
			continue
		}
		for j, rawResult := range *run.Results {
			w := whereAt(file, fmt.Sprintf("%s.results[%d]", where, j))
			var r sarifResult
			if bad := decodeItem(rawResult, &r, w); bad != nil {
				s.problems = append(s.problems, *bad)
				continue
			}
			if f, ok, problem := sarifFinding(run, r, w); problem != nil {
				s.problems = append(s.problems, ingest.Entry{Problems: []ingest.LineError{*problem}})
			} else if ok {
				f.raw = sha256.Sum256(rawResult)
				s.found = append(s.found, f)
			}
		}
		scans = append(scans, s)
	}
	return scans, nil
}

func whereAt(file, path string) where { return where{file: file, path: path} }

// sarifFinding maps one result. Results that are not failures (kind
// pass, informational, …), that a baseline says are gone (baselineState
// absent) or that are suppressed are not open findings (ok is false).
func sarifFinding(run sarifRun, r sarifResult, w where) (finding, bool, *ingest.LineError) {
	if r.Kind != "" && r.Kind != "fail" {
		return finding{}, false, nil
	}
	if r.BaselineState == "absent" {
		return finding{}, false, nil
	}
	for _, s := range r.Suppressions {
		if s.Status == "" || s.Status == "accepted" {
			return finding{}, false, nil
		}
	}
	rule := sarifRuleOf(run, r)
	id := r.RuleID
	if id == "" {
		id = r.Rule.ID
	}
	if id == "" && rule != nil {
		id = rule.ID
	}
	if id == "" {
		p := w.problem("ruleId", "required (the rule or vulnerability the result is about)")
		return finding{}, false, &p
	}
	if i := strings.IndexByte(id, '/'); i > 0 && rule != nil && rule.ID != id {
		// "CA2101/2": a rule id with a hierarchical sub-id.
		id = rule.ID
	}
	severity, sevField, err := sarifSeverity(r, rule)
	if err != nil {
		p := w.problem("properties.security-severity", "%v", err)
		return finding{}, false, &p
	}
	url := r.HostedViewerURI
	if rule != nil && rule.HelpURI != "" {
		url = rule.HelpURI
	}
	return finding{
		at:       w,
		identity: sarifIdentity(r),
		vuln:     id,
		severity: severity,
		sevField: sevField,
		cve:      cveOf(id),
		url:      url,
	}, true, nil
}

func sarifRuleOf(run sarifRun, r sarifResult) *sarifRule {
	comp := &run.Tool.Driver
	if i := r.Rule.ToolComponent.Index; i != nil {
		if *i < 0 || *i >= len(run.Tool.Extensions) {
			return nil
		}
		comp = &run.Tool.Extensions[*i]
	}
	idx := r.RuleIndex
	if r.Rule.Index != nil {
		idx = r.Rule.Index
	}
	if idx != nil && *idx >= 0 && *idx < len(comp.Rules) {
		return &comp.Rules[*idx]
	}
	id := r.RuleID
	if id == "" {
		id = r.Rule.ID
	}
	for i := range comp.Rules {
		if comp.Rules[i].ID == id {
			return &comp.Rules[i]
		}
	}
	return nil
}

// sarifSeverity is the severity a SARIF result is mapped by: a
// security-severity score when the result or its rule carries one, named
// as GitHub code scanning names it (≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0
// medium, above 0 low), else its level (default: the rule's default
// level, else warning).
func sarifSeverity(r sarifResult, rule *sarifRule) (severity, field string, err error) {
	score := r.Properties.SecuritySeverity
	if len(score) == 0 && rule != nil {
		score = rule.Properties.SecuritySeverity
	}
	if len(score) > 0 && string(score) != "null" {
		var text string
		if json.Unmarshal(score, &text) != nil {
			text = string(score)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || f < 0 || f > 10 {
			return "", "", fmt.Errorf("%s is not a score from 0 to 10", score)
		}
		switch {
		case f >= 9:
			return "critical", "properties.security-severity", nil
		case f >= 7:
			return "high", "properties.security-severity", nil
		case f >= 4:
			return "medium", "properties.security-severity", nil
		case f > 0:
			return "low", "properties.security-severity", nil
		}
		return "none", "properties.security-severity", nil
	}
	level, field := r.Level, "level"
	if level == "" && rule != nil {
		level, field = rule.DefaultConfiguration.Level, "defaultConfiguration.level (its rule's)"
	}
	if level == "" {
		level = "warning"
	}
	return level, field, nil
}

// sarifIdentity is what a result found, the same from one run to the
// next: the tool's fingerprints when it gives them (they exist for this),
// else the rule's place — file and line, logical location — and message.
func sarifIdentity(r sarifResult) string {
	fps := r.Fingerprints
	if len(fps) == 0 {
		fps = r.PartialFingerprints
	}
	if len(fps) > 0 {
		keys := make([]string, 0, len(fps))
		for k := range fps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(k + "=" + fps[k] + "\x00")
		}
		return "fingerprint\x00" + b.String()
	}
	var b strings.Builder
	for _, l := range r.Locations {
		b.WriteString(l.PhysicalLocation.ArtifactLocation.URI + ":" + strconv.Itoa(l.PhysicalLocation.Region.StartLine) + "\x00")
		for _, ll := range l.LogicalLocations {
			b.WriteString(ll.FullyQualifiedName + "\x00")
		}
	}
	msg := r.Message.Text
	if msg == "" {
		msg = r.Message.ID + "(" + strings.Join(r.Message.Arguments, ",") + ")"
	}
	return "location\x00" + b.String() + msg
}
