package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/candor/candor/internal/ledger"
)

// docAfter returns the doc at path after the line heading.
func docAfter(t *testing.T, path, heading string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no %q section", path, heading)
	}
	return rest
}

// docYAML returns the first ```yaml block after heading in the doc at path.
func docYAML(t *testing.T, path, heading string) string {
	t.Helper()
	rest := docAfter(t, path, heading)
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(rest)
	if m == nil {
		t.Fatalf("%s has no yaml block under %q", path, heading)
	}
	return m[1]
}

// The reference configuration file of docs/configuration.md ("## File") loads as it is written,
// with what it needs beside it (the ledger key and gates.yaml it names, the OIDC client secret and
// the alert channels' secrets and the collector's token it leaves to the environment), so that the
// reference cannot rot into a file Candor refuses (as it had: two metric overrides hung under
// annotations:, "value is not allowed in this context"). Every top-level key of the configuration
// is in it.
func TestReferenceConfigurationLoads(t *testing.T) {
	src := docYAML(t, "../../docs/configuration.md", "## File")
	dir := t.TempDir()
	key, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "ledger.key")
	if err := ledger.WriteKeyFile(keyFile, key); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src, "key_file: /etc/candor/ledger.key") {
		t.Fatal("the reference no longer names /etc/candor/ledger.key: update this test")
	}
	src = strings.Replace(src, "key_file: /etc/candor/ledger.key", "key_file: "+keyFile, 1)
	if err := os.WriteFile(filepath.Join(dir, "gates.yaml"), []byte(docYAML(t, "../../docs/gates.md", "### Your own policies (CEL)")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "candor.yaml")
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfg, env(map[string]string{
		"CANDOR_OIDC_CLIENT_SECRET": "s3cret",
		"CANDOR_OPS_HOOK_SECRET":    "hook",
		"CANDOR_SLACK_URL":          "https://hooks.slack.com/services/T0/B0/X",
		"CANDOR_SYNC_TOKEN_GITHUB":  "ghp_example",
	}))
	if err != nil {
		t.Fatalf("docs/configuration.md's reference file: %v", err)
	}
	if _, from, err := c.ConfiguredLedgerKey(); err != nil || from == "" {
		t.Errorf("ledger key: from %q, %v", from, err)
	}
	if err := c.CheckAlertSecrets(); err != nil {
		t.Errorf("alert secrets: %v", err)
	}
	// As serve checks at start: the scheduled GitHub collector had no
	// token, and logged an ERROR at every run.
	if err := c.CheckSyncReady(); err != nil {
		t.Errorf("scheduled collectors: %v", err)
	}
	cat, err := c.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GatePolicies(cat); err != nil {
		t.Errorf("gate policies: %v", err)
	}
	// What it sets arrives where it was meant to (the overrides that had slipped under
	// annotations: are metric overrides).
	if c.Metrics["win_rate"].MinSample == nil || int(*c.Metrics["win_rate"].MinSample) != 20 || len(c.Annotations) != 2 {
		t.Errorf("win_rate override %+v, %d annotations", c.Metrics["win_rate"], len(c.Annotations))
	}
	top := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z_]+):`).FindAllStringSubmatch(src, -1) {
		top[m[1]] = true
	}
	ty := reflect.TypeFor[Config]()
	for i := range ty.NumField() {
		name, _, _ := strings.Cut(ty.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" && !top[name] {
			t.Errorf("the reference file has no %s: section", name)
		}
	}
}

// Every other YAML example in the README and docs/ that is a piece of the configuration file (its
// top-level keys are the file's) loads on its own, as a reader would paste it; schematic ones
// (holding "…") are left out, and docs/known-problems.md is not a reference.
func TestDocsConfigExamplesLoad(t *testing.T) {
	keys := map[string]bool{}
	ty := reflect.TypeFor[Config]()
	for i := range ty.NumField() {
		if name, _, _ := strings.Cut(ty.Field(i).Tag.Get("yaml"), ","); name != "" {
			keys[name] = true
		}
	}
	files, _ := filepath.Glob("../../docs/*.md")
	more, _ := filepath.Glob("../../docs/connectors/*.md")
	files = append(append(files, more...), "../../README.md")
	block := regexp.MustCompile("(?ms)^( *)```yaml\n(.*?)^ *```")
	topKey := regexp.MustCompile(`(?m)^([a-z_]+):`)
	loaded := 0
	for _, f := range files {
		if strings.HasSuffix(f, "known-problems.md") || strings.HasSuffix(f, "performance.md") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllStringSubmatch(string(b), -1) {
			indent, src := m[1], m[2]
			if indent != "" {
				src = regexp.MustCompile("(?m)^"+indent).ReplaceAllString(src, "")
			}
			tops := topKey.FindAllStringSubmatch(src, -1)
			config := len(tops) > 0 && !strings.Contains(src, "…")
			for _, k := range tops {
				config = config && keys[k[1]]
			}
			if !config || strings.Contains(src, "\ngates:") || strings.HasPrefix(src, "gates:") || strings.Contains(src, "# candor.yaml") {
				continue
			}
			vars := map[string]string{}
			if strings.Contains(src, "oidc:") {
				vars["CANDOR_OIDC_CLIENT_SECRET"] = "s3cret"
			}
			if _, err := Load(write(t, src), env(vars)); err != nil {
				t.Errorf("%s: the example\n%s\ndoes not load: %v", f, src, err)
			}
			loaded++
		}
	}
	t.Logf("%d examples loaded", loaded)
	if loaded < 15 {
		t.Errorf("only %d examples loaded", loaded)
	}
}

// docs/configuration.md's environment table is one table holding every variable Candor reads (a
// blank line had split it, leaving CANDOR_URL, CANDOR_TOKEN and CANDOR_IMAGE outside it).
func TestDocsEnvironmentTable(t *testing.T) {
	section := docAfter(t, "../../docs/configuration.md", "## Environment variables")
	_, table, ok := strings.Cut(section, "\n| variable | meaning |\n|---|---|\n")
	if !ok {
		t.Fatal("the environment variables section has no table")
	}
	rows := map[string]bool{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break // the table ends at its first line that is not a row
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range regexp.MustCompile("`(CANDOR_[A-Z_]+)(<SOURCE>)?`").FindAllStringSubmatch(first, -1) {
			rows[m[1]] = true // CANDOR_SYNC_TOKEN_<SOURCE>: the prefix
		}
	}
	for _, v := range Env {
		prefixed := false
		for r := range rows {
			prefixed = prefixed || strings.HasSuffix(r, "_") && strings.HasPrefix(v.Name, r)
		}
		if !rows[v.Name] && !prefixed {
			t.Errorf("%s is not a row of the environment variables table", v.Name)
		}
	}
}
