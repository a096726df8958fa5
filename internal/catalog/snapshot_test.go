package catalog

import (
	"os"
	"reflect"
	"testing"
)

// TestBuiltinSnapshotIsCurrent: catalog.gob is the catalog parsed from
// catalog.yaml as it is, and decodes to exactly what parsing gives (a
// field gob cannot carry would differ here).
func TestBuiltinSnapshotIsCurrent(t *testing.T) {
	parsed, err := Parse(builtinYAML, builtinName)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CANDOR_UPDATE_CATALOG") == "1" {
		b, err := makeSnapshot(parsed, builtinYAML)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("catalog.gob", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, ok := fromSnapshot(builtinSnapshot, builtinYAML)
	if !ok {
		t.Fatal("catalog.gob is not a snapshot of catalog.yaml as it is (the YAML is parsed at every start meanwhile): CANDOR_UPDATE_CATALOG=1 go test ./internal/catalog/ -run TestBuiltinSnapshotIsCurrent")
	}
	if !reflect.DeepEqual(got, parsed) {
		t.Error("catalog.gob decodes to another catalog than catalog.yaml parses to")
	}
	// Of other YAML, or damaged, a snapshot is not used.
	if _, ok := fromSnapshot(builtinSnapshot, append([]byte("# edited\n"), builtinYAML...)); ok {
		t.Error("a snapshot was used for YAML it was not made from")
	}
	if _, ok := fromSnapshot(builtinSnapshot[:len(builtinSnapshot)/2], builtinYAML); ok {
		t.Error("half a snapshot was used")
	}
	c, err := Default()
	if err != nil || !reflect.DeepEqual(c, parsed.clone()) {
		t.Errorf("Default() = %v, %v; want the parsed catalog", c != nil, err)
	}
}
