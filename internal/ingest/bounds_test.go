package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A deployment whose service is a 2 MB string is refused with its file,
// line and field named, in NDJSON and CSV, and nothing is stored.
func TestImportRefusesHugeService(t *testing.T) {
	huge := strings.Repeat("s", 2<<20)
	for _, in := range []Source{
		src("big.ndjson", nd(depLine("d1"), fmt.Sprintf(`{"kind":"deployment","id":"d2","service":%q,"environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`, huge))),
		// Line 1 is the header.
		src("deployments.csv", depHeader+"\nd2,"+huge+",production,2026-03-10T12:00:00Z,success\n"+depRow("d1")+"\n"),
	} {
		t.Run(in.Name, func(t *testing.T) {
			st := newStore(t)
			mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("d0"))))
			before := snap(t, st)
			_, err := doImport(context.Background(), st, []Source{in}, Options{})
			inv := wantInvalid(t, err)
			if inv.Count != 1 || len(inv.Lines) == 0 {
				t.Fatalf("InvalidError = %v", inv)
			}
			l := inv.Lines[0]
			if l.Line != 2 || l.Field != "service" || !strings.Contains(l.Reason, "at most 256 bytes") {
				t.Fatalf("first problem = %+v, want line 2 field service over 256 bytes", l)
			}
			if !strings.HasPrefix(err.Error(), "1 invalid record; nothing was imported\n  "+in.Name+":2: field service: is 2097152 bytes long") {
				t.Fatalf("error = %.300q", err)
			}
			if len(err.Error()) > 2000 {
				t.Fatalf("the error quotes the value back: %d bytes", len(err.Error()))
			}
			assertUnchanged(t, st, before)
		})
	}
}

// Every problem of a record is listed, each on its line with its field.
func TestImportListsEveryProblem(t *testing.T) {
	st := newStore(t)
	bad := `{"kind":"deployment","id":"d2","service":"api","finished_at":"soon","status":"ok"}`
	_, err := doImport(context.Background(), st, []Source{src("three.ndjson", nd(depLine("d1"), bad))}, Options{})
	inv := wantInvalid(t, err)
	var got []string
	for _, l := range inv.Lines {
		got = append(got, fmt.Sprintf("%d:%s", l.Line, l.Field))
	}
	if inv.Count != 1 || strings.Join(got, " ") != "2:environment 2:finished_at 2:status" {
		t.Fatalf("Count %d, problems %v", inv.Count, got)
	}
	for _, want := range []string{"three.ndjson:2: field environment: required", "three.ndjson:2: field finished_at: ", "three.ndjson:2: field status: "} {
		if !strings.Contains(err.Error(), "\n  "+want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
