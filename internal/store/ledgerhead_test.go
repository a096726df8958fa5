package store

import (
	"encoding/json"
	"testing"
)

// TestLedgerHeadJSON: a head is written as SEQ:HASH, "" when the ledger
// has no entry, and read back; anything else is refused.
func TestLedgerHeadJSON(t *testing.T) {
	for _, c := range []struct {
		head LedgerHead
		json string
	}{
		{LedgerHead{Seq: 56, Hash: "9f2c"}, `"56:9f2c"`},
		{LedgerHead{}, `""`},
	} {
		b, err := json.Marshal(c.head)
		if err != nil || string(b) != c.json {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", c.head, b, err, c.json)
		}
		var back LedgerHead
		if err := json.Unmarshal(b, &back); err != nil || back != c.head {
			t.Errorf("Unmarshal(%s) = %+v, %v", b, back, err)
		}
	}
	for _, bad := range []string{`{"Seq":1,"Hash":"x"}`, `"x:9f2c"`, `"0:9f2c"`, `"9f2c"`} {
		var h LedgerHead
		if err := json.Unmarshal([]byte(bad), &h); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", bad, h)
		}
	}
}
