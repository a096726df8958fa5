package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// TestLedgerAPI: the ledger's entries a page at a time, by position or by
// time; what the API posts is chained with who posted it.
func TestLedgerAPI(t *testing.T) {
	e := newEnv(t, 0)
	e.store.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	before := time.Now().UTC()
	for _, id := range []string{"a", "b", "c"} {
		status, body, _ := e.do(t, "POST", "/api/v1/records", `{"kind":"incident","id":"`+id+`","service":"api","severity":"P3","opened_at":"2026-03-30T20:00:00Z"}`, nil)
		if status != 200 {
			t.Fatalf("POST records: %d %s", status, body)
		}
	}
	get := func(url string, want int) ledger.Page {
		t.Helper()
		status, body, _ := e.do(t, "GET", url, "", nil)
		if status != want {
			t.Fatalf("GET %s: %d, want %d\n%s", url, status, want, body)
		}
		var p ledger.Page
		json.Unmarshal(body, &p)
		return p
	}
	all := get("/api/v1/ledger", 200)
	if all.Head.Seq != 3 || len(all.Entries) != 3 || all.Next != 0 || all.Entries[2].Hash != all.Head.Hash {
		t.Fatalf("ledger: %+v", all)
	}
	// The head as `candor ledger head` prints it: SEQ:HASH.
	_, body, _ := e.do(t, "GET", "/api/v1/ledger", "", nil)
	var raw struct{ Head any }
	if json.Unmarshal(body, &raw); raw.Head != "3:"+all.Head.Hash {
		t.Errorf("the head in the page: %v, want 3:%s", raw.Head, all.Head.Hash)
	}
	// Served indented; compacted, it is the text the hash covers.
	first := all.Entries[0]
	var data, personal bytes.Buffer
	json.Compact(&data, first.Data)
	json.Compact(&personal, first.Personal)
	if first.Type != ledger.TypeRecords || !strings.Contains(data.String(), `"origin":"api"`) || personal.String() != `{"by":["token:test"]}` || first.Sig == "" {
		t.Errorf("first entry %s %s %s", first.Type, data.String(), personal.String())
	}
	row := store.LedgerRow{Seq: first.Seq, At: first.At, Type: first.Type, Data: data.Bytes(), PersonalDigest: first.PersonalDigest, Prev: first.Prev}
	if h, _ := ledger.Hash(row); h != first.Hash {
		t.Errorf("the entry as served does not hash to its hash")
	}
	if p := get("/api/v1/ledger?from=2&limit=1", 200); len(p.Entries) != 1 || p.Entries[0].Seq != 2 || p.Next != 3 {
		t.Errorf("from=2&limit=1: %+v", p)
	}
	if p := get("/api/v1/ledger?to=2", 200); len(p.Entries) != 2 || p.Entries[1].Seq != 2 {
		t.Errorf("to=2: %+v", p)
	}
	if p := get("/api/v1/ledger?from="+before.Add(-time.Minute).Format(time.RFC3339)+"&to="+before.Add(time.Hour).Format(time.RFC3339), 200); len(p.Entries) != 3 {
		t.Errorf("by time: %d entries", len(p.Entries))
	}
	if p := get("/api/v1/ledger?from=2030-01-01", 200); len(p.Entries) != 0 || p.Head.Seq != 3 {
		t.Errorf("from the future: %+v", p)
	}
	// A range ending before it begins is refused, naming to, as the other
	// ranges of the API are; it had been an empty page.
	for _, bad := range []string{"from=0", "to=yesterday", "limit=0", "to=1&from=3", "to=2026-01-01&from=2026-03-01"} {
		status, body, _ := e.do(t, "GET", "/api/v1/ledger?"+bad, "", nil)
		if name, _, _ := strings.Cut(bad, "="); status != 400 || !strings.Contains(string(body), `"param": "`+name+`"`) {
			t.Errorf("?%s: %d %s", bad, status, body)
		}
	}
}
