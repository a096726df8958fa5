package catalog

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/gob"
)

// The built-in catalog is read at the start of every command, and parsing
// its YAML took ~23 ms, a tenth of a whole `candor scorecard` at scale 1.
// catalog.gob holds the parsed catalog (gob, ~0.3 ms to decode) with the
// hash of the YAML it was parsed from: a snapshot of another YAML (the
// file edited, the snapshot not made again) is not used, and the YAML is
// parsed as before. TestBuiltinSnapshotIsCurrent fails until it is made
// again: CANDOR_UPDATE_CATALOG=1 go test ./internal/catalog/ -run TestBuiltinSnapshotIsCurrent

//go:embed catalog.gob
var builtinSnapshot []byte

// snapshot is catalog.gob's content.
type snapshot struct {
	YAML    [sha256.Size]byte
	Catalog *Catalog
}

// fromSnapshot returns the catalog of a snapshot of yaml; false when the
// snapshot is of other YAML or does not decode.
func fromSnapshot(snap, yaml []byte) (*Catalog, bool) {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(snap)).Decode(&s); err != nil || s.Catalog == nil || s.YAML != sha256.Sum256(yaml) {
		return nil, false
	}
	return s.Catalog, true
}

// makeSnapshot encodes the catalog parsed from yaml.
func makeSnapshot(c *Catalog, yaml []byte) ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(snapshot{YAML: sha256.Sum256(yaml), Catalog: c})
	return buf.Bytes(), err
}
