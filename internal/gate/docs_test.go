package gate

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// Every policies-file example of docs/gates.md (the freeze calendar, the CEL policies, the
// approvers, the watch) loads and compiles as it is written; the CI and Kubernetes examples are
// not policies and are left out.
func TestDocsYAMLBlocksLoad(t *testing.T) {
	b, err := os.ReadFile("../../docs/gates.md")
	if err != nil {
		t.Fatal(err)
	}
	policyKeys := regexp.MustCompile(`(?m)^(policies|freeze|risk|coverage|canary|emergency|watch):`)
	loaded := 0
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		src := m[1]
		if strings.HasPrefix(src, "# candor.yaml") || !policyKeys.MatchString(src) {
			continue
		}
		if _, err := Load("gates.yaml", []byte(src), testCatalog(t)); err != nil {
			t.Errorf("docs/gates.md example:\n%s\n%v", src, err)
		}
		loaded++
	}
	if loaded < 4 {
		t.Errorf("%d policy examples loaded, want the freeze, CEL, approvers and watch ones", loaded)
	}
}
