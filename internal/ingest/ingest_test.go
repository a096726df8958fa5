package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// ---------------------------------------------------------------------------
// Helpers

var newStore = sqlitetest.Open

// nd joins NDJSON lines, each ended by "\n".
func nd(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func src(name, content string) Source {
	return Source{Name: name, Reader: strings.NewReader(content)}
}

func gz(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func depLine(id string) string {
	return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`, id)
}

func depLineStatus(id, status string) string {
	return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":%q}`, id, status)
}

func svcLine(id string) string {
	return fmt.Sprintf(`{"kind":"service","id":%q,"name":"Service %s","tier":1}`, id, id)
}

func incLine(id string) string {
	return fmt.Sprintf(`{"kind":"incident","id":%q,"service":"api","severity":"P1","opened_at":"2026-03-10T13:00:00Z"}`, id)
}

func chgLine(id string) string {
	return fmt.Sprintf(`{"kind":"change","id":%q,"service":"api","merged_at":"2026-03-09T10:00:00Z"}`, id)
}

const depHeader = "id,service,environment,finished_at,status"

func depRow(id string) string {
	return id + ",api,production,2026-03-10T12:00:00Z,success"
}

func depKey(id string) domain.Key {
	return domain.Key{Kind: domain.KindDeployment, Source: "import", ID: id}
}

func mustImport(t *testing.T, st store.Store, opt Options, sources ...Source) *Summary {
	t.Helper()
	sum, err := doImport(context.Background(), st, sources, opt)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if sum == nil {
		t.Fatal("Import returned a nil summary without an error")
	}
	return sum
}

func wantInvalid(t *testing.T, err error) *InvalidError {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error = %v (%T), want *InvalidError", err, err)
	}
	return inv
}

type storedRow struct {
	Seq  int64
	Hash string
	Body string
}

// snapshot is everything the store holds, with sequence numbers, so a test
// can tell that an import changed nothing at all.
type snapshot struct {
	last int64
	rows map[domain.Key]storedRow
}

func snap(t *testing.T, st store.Store) snapshot {
	t.Helper()
	s := snapshot{rows: map[domain.Key]storedRow{}}
	if _, err := st.Scan(context.Background(), 0, func(r store.Stored) error {
		s.rows[r.Key] = storedRow{r.Seq, r.Hash, string(r.Body)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	last, err := st.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.last = last
	return s
}

func assertUnchanged(t *testing.T, st store.Store, before snapshot) {
	t.Helper()
	after := snap(t, st)
	if after.last != before.last {
		t.Errorf("LastSeq moved from %d to %d", before.last, after.last)
	}
	if !reflect.DeepEqual(after.rows, before.rows) {
		var added []string
		for k := range after.rows {
			if _, ok := before.rows[k]; !ok {
				added = append(added, k.String())
			}
		}
		slices.Sort(added)
		if len(added) > 5 {
			added = append(added[:5], "…")
		}
		t.Errorf("store changed: %d records before, %d after; new: %v", len(before.rows), len(after.rows), added)
	}
}

func counts(t *testing.T, st store.Store) map[domain.Kind]int64 {
	t.Helper()
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func keysOf(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	for k := range snap(t, st).rows {
		out = append(out, k.String())
	}
	slices.Sort(out)
	return out
}

func getDeployment(t *testing.T, st store.Store, id string) *domain.Deployment {
	t.Helper()
	r, err := st.Get(context.Background(), depKey(id))
	if err != nil {
		t.Fatalf("Get deployment %s: %v", id, err)
	}
	var d domain.Deployment
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatalf("stored body of %s: %v\n%s", id, err, r.Body)
	}
	return &d
}

func ks(records int64, ins, rep, unch int64) KindSummary {
	return KindSummary{Records: records, WriteResult: store.WriteResult{Inserted: ins, Replaced: rep, Unchanged: unch}}
}

func byKind(s *Summary) map[domain.Kind]KindSummary {
	out := map[domain.Kind]KindSummary{}
	for k, v := range s.ByKind {
		out[k] = *v
	}
	return out
}

// ---------------------------------------------------------------------------
// Formats and kinds

func TestImportNDJSON(t *testing.T) {
	st := newStore(t)
	in := nd(
		svcLine("api"), svcLine("web"),
		depLine("d1"), depLine("d2"), depLine("d3"),
		incLine("i1"),
		chgLine("c1"),
	)
	sum := mustImport(t, st, Options{}, src("all.ndjson", in))

	if sum.Records != 7 || sum.Invalid != 0 || sum.Inserted != 7 || sum.Replaced != 0 || sum.Unchanged != 0 {
		t.Errorf("summary = %+v", sum)
	}
	want := map[domain.Kind]KindSummary{
		domain.KindService:    ks(2, 2, 0, 0),
		domain.KindDeployment: ks(3, 3, 0, 0),
		domain.KindIncident:   ks(1, 1, 0, 0),
		domain.KindChange:     ks(1, 1, 0, 0),
	}
	if got := byKind(sum); !reflect.DeepEqual(got, want) {
		t.Errorf("ByKind = %+v\nwant %+v", got, want)
	}
	if got := sum.Kinds(); !slices.Equal(got, []domain.Kind{domain.KindService, domain.KindDeployment, domain.KindChange, domain.KindIncident}) {
		t.Errorf("Kinds() = %v", got)
	}
	if sum.Seconds <= 0 || sum.PerSecond <= 0 {
		t.Errorf("Seconds = %v, PerSecond = %v; want both > 0", sum.Seconds, sum.PerSecond)
	}
	if r := float64(sum.Records) / sum.Seconds; abs(r-sum.PerSecond) > 1e-6*r {
		t.Errorf("PerSecond = %v, want Records/Seconds = %v", sum.PerSecond, r)
	}
	if len(sum.Skipped) != 0 {
		t.Errorf("Skipped = %v", sum.Skipped)
	}

	wantCounts := map[domain.Kind]int64{domain.KindService: 2, domain.KindDeployment: 3, domain.KindIncident: 1, domain.KindChange: 1}
	if got := counts(t, st); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("store counts = %v, want %v", got, wantCounts)
	}
	if n, _ := st.LastSeq(context.Background()); n != 7 {
		t.Errorf("LastSeq = %d, want 7", n)
	}

	// The stored body is the canonical record; the event time and source
	// are filled.
	r, err := st.Get(context.Background(), depKey("d2"))
	if err != nil {
		t.Fatal(err)
	}
	fin := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if !r.EventTime.Equal(fin) {
		t.Errorf("event time = %v, want %v", r.EventTime, fin)
	}
	if r.Hash == "" {
		t.Error("stored hash is empty")
	}
	d := getDeployment(t, st, "d2")
	if d.ID != "d2" || d.Service != "api" || d.Status != "success" || !d.FinishedAt.Equal(fin) || d.Environment != "production" {
		t.Errorf("stored deployment = %+v", d)
	}
}

func TestImportDefaultSource(t *testing.T) {
	st := newStore(t)
	mustImport(t, st, Options{Parse: domain.ParseOptions{DefaultSource: "ci"}}, src("a.ndjson", nd(
		depLine("d1"),
		`{"kind":"deployment","id":"d1","source":"github","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`,
	)))
	want := []string{"deployment/ci/d1", "deployment/github/d1"}
	if got := keysOf(t, st); !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v (same id, different sources are different records)", got, want)
	}
}

func TestImportNDJSONKindOption(t *testing.T) {
	noKind := `{"id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`

	t.Run("option names the kind", func(t *testing.T) {
		st := newStore(t)
		sum := mustImport(t, st, Options{Kind: domain.KindDeployment}, src("x.ndjson", nd(noKind, depLine("d2"))))
		if got := byKind(sum); !reflect.DeepEqual(got, map[domain.Kind]KindSummary{domain.KindDeployment: ks(2, 2, 0, 0)}) {
			t.Errorf("ByKind = %+v", got)
		}
	})
	t.Run("record of another kind refused", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("x.ndjson", nd(depLine("d1"), incLine("i1")))}, Options{Kind: domain.KindDeployment})
		inv := wantInvalid(t, err)
		if inv.Count != 1 || len(inv.Lines) != 1 || inv.Lines[0].File != "x.ndjson" || inv.Lines[0].Line != 2 || inv.Lines[0].Field != "kind" {
			t.Fatalf("InvalidError = %+v", inv)
		}
		if !strings.Contains(inv.Lines[0].Reason, "incident") || !strings.Contains(inv.Lines[0].Reason, "deployment") {
			t.Errorf("reason %q should name both kinds", inv.Lines[0].Reason)
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
	t.Run("no kind anywhere", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("x.ndjson", nd(noKind))}, Options{})
		inv := wantInvalid(t, err)
		if len(inv.Lines) != 1 || inv.Lines[0].Line != 1 || inv.Lines[0].Field != "kind" || !strings.Contains(inv.Lines[0].Reason, "required") {
			t.Fatalf("InvalidError = %+v", inv)
		}
	})
}

func TestImportCSVKind(t *testing.T) {
	rows := depHeader + "\n" + depRow("d1") + "\n" + depRow("d2") + "\n"
	incRows := "id,service,severity,opened_at\ni1,api,P1,2026-03-10T13:00:00Z\n"
	cases := []struct {
		name    string
		file    string
		content string
		gzip    bool
		kind    domain.Kind
		want    domain.Kind
		wantErr string // a plain error (not InvalidError) containing this
	}{
		{name: "option", file: "export.csv", content: rows, kind: domain.KindDeployment, want: domain.KindDeployment},
		{name: "option beats file name", file: "incidents.csv", content: rows, kind: domain.KindDeployment, want: domain.KindDeployment},
		{name: "kind column", file: "export.csv", content: "kind,id,service,environment,finished_at,status\ndeployment,d1,api,production,2026-03-10T12:00:00Z,success\nDeployment,d2,api,prod,2026-03-10T12:00:00Z,success\n", want: domain.KindDeployment},
		{name: "plural file name", file: "deployments.csv", content: rows, want: domain.KindDeployment},
		{name: "singular file name", file: "deployment.csv", content: rows, want: domain.KindDeployment},
		{name: "dated file name", file: "2026-03_incidents.csv", content: incRows, want: domain.KindIncident},
		{name: "directory and case", file: "exports/2026-03/Incidents.CSV", content: incRows, want: domain.KindIncident},
		{name: "gzipped", file: "dump/deployments.csv.gz", content: rows, gzip: true, want: domain.KindDeployment},
		{name: "cannot tell", file: "export.csv", content: rows, wantErr: "cannot tell"},
		{name: "cannot tell gzipped", file: "2026-03.csv.gz", content: rows, gzip: true, wantErr: "cannot tell"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newStore(t)
			content := c.content
			if c.gzip {
				content = gz(t, content)
			}
			sum, err := doImport(context.Background(), st, []Source{src(c.file, content)}, Options{Kind: c.kind})
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("no error; summary %+v", sum)
				}
				var inv *InvalidError
				if errors.As(err, &inv) {
					t.Fatalf("got InvalidError %v, want a plain error", err)
				}
				if !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), c.file) {
					t.Errorf("error %q should contain %q and the file name", err, c.wantErr)
				}
				if len(keysOf(t, st)) != 0 {
					t.Error("something was stored")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n := counts(t, st)[c.want]
			if n == 0 || sum.ByKind[c.want] == nil || sum.ByKind[c.want].Records != n || len(sum.ByKind) != 1 {
				t.Errorf("stored %d %s records; summary %+v", n, c.want, byKind(sum))
			}
		})
	}

	t.Run("kind column disagrees with option", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("x.csv",
			"kind,id,service,environment,finished_at,status\ndeployment,d1,api,production,2026-03-10T12:00:00Z,success\nincident,d2,api,production,2026-03-10T12:00:00Z,success\n")},
			Options{Kind: domain.KindDeployment})
		inv := wantInvalid(t, err)
		if len(inv.Lines) != 1 || inv.Lines[0].Line != 3 || inv.Lines[0].Field != "kind" {
			t.Errorf("InvalidError = %+v", inv)
		}
	})
	t.Run("kind column cell empty", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("x.csv",
			"kind,id,service,environment,finished_at,status\n,d1,api,production,2026-03-10T12:00:00Z,success\n")}, Options{})
		inv := wantInvalid(t, err)
		if len(inv.Lines) != 1 || inv.Lines[0].Line != 2 || inv.Lines[0].Field != "kind" {
			t.Errorf("InvalidError = %+v", inv)
		}
	})
}

func TestImportCSVLists(t *testing.T) {
	st := newStore(t)
	in := "id,service,environment,finished_at,status,changes\n" +
		"d1,api,production,2026-03-10T12:00:00Z,success,c1; c2 ;;c3\n" +
		"d2,api,production,2026-03-10T12:00:00Z,success,\n" +
		"d3,api,production,2026-03-10T12:00:00Z,success,solo\n" +
		`d4,api,production,2026-03-10T12:00:00Z,success,"a;b, with comma"` + "\n"
	mustImport(t, st, Options{}, src("deployments.csv", in))
	for id, want := range map[string][]string{"d1": {"c1", "c2", "c3"}, "d2": nil, "d3": {"solo"}, "d4": {"a", "b, with comma"}} {
		if got := getDeployment(t, st, id).Changes; !slices.Equal(got, want) {
			t.Errorf("%s changes = %q, want %q", id, got, want)
		}
	}

	// The same list from NDJSON is the same record.
	st2 := newStore(t)
	mustImport(t, st2, Options{}, src("x.ndjson", nd(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","changes":["c1","c2","c3"]}`)))
	a, _ := st.Get(context.Background(), depKey("d1"))
	b, _ := st2.Get(context.Background(), depKey("d1"))
	if string(a.Body) != string(b.Body) {
		t.Errorf("CSV and NDJSON give different records:\n%s\n%s", a.Body, b.Body)
	}
}

func TestImportCSVQuotedMultilineKeepsLineNumbers(t *testing.T) {
	st := newStore(t)
	in := "id,service,merged_at,title\n" + // 1
		`c1,api,2026-03-09T10:00:00Z,"Fix, ""quoted""` + "\n" + // 2
		`and a second line"` + "\n" + // 3
		"c2,api,yesterday,ok\n" // 4
	_, err := doImport(context.Background(), st, []Source{src("changes.csv", in)}, Options{})
	inv := wantInvalid(t, err)
	if len(inv.Lines) != 1 || inv.Lines[0].Line != 4 || inv.Lines[0].Field != "merged_at" {
		t.Fatalf("InvalidError = %+v, want line 4 field merged_at", inv)
	}

	mustImport(t, st, Options{}, src("changes.csv", strings.Join(strings.Split(in, "\n")[:3], "\n")+"\n"))
	r, err := st.Get(context.Background(), domain.Key{Kind: domain.KindChange, Source: "import", ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	var c domain.Change
	if err := json.Unmarshal(r.Body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Title != "Fix, \"quoted\"\nand a second line" {
		t.Errorf("title = %q", c.Title)
	}
}

func TestImportFormats(t *testing.T) {
	t.Run("explicit csv format for a name without extension", func(t *testing.T) {
		st := newStore(t)
		s := src("stdin", depHeader+"\n"+depRow("d1")+"\n")
		s.Format = "csv"
		mustImport(t, st, Options{Kind: domain.KindDeployment}, s)
		if counts(t, st)[domain.KindDeployment] != 1 {
			t.Error("not imported")
		}
	})
	t.Run("default is ndjson", func(t *testing.T) {
		st := newStore(t)
		mustImport(t, st, Options{}, src("stdin", nd(depLine("d1"))), src("x.jsonl", nd(depLine("d2"))), src("x.json", nd(depLine("d3"))))
		if counts(t, st)[domain.KindDeployment] != 3 {
			t.Error("not imported")
		}
	})
	t.Run("unknown format", func(t *testing.T) {
		st := newStore(t)
		s := src("x.xml", "<x/>")
		s.Format = "xml"
		_, err := doImport(context.Background(), st, []Source{src("ok.ndjson", nd(depLine("d1"))), s}, Options{})
		if err == nil || !strings.Contains(err.Error(), "x.xml") || !strings.Contains(err.Error(), "xml") {
			t.Fatalf("err = %v", err)
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("the earlier source's records were stored")
		}
	})
}

func TestImportGzip(t *testing.T) {
	st := newStore(t)
	sum := mustImport(t, st, Options{},
		src("part1.ndjson.gz", gz(t, nd(depLine("d1"), depLine("d2")))),
		src("PART2.NDJSON.GZ", gz(t, nd(incLine("i1")))),
		src("incidents.csv.gz", gz(t, "id,service,severity,opened_at\ni2,api,p2,2026-03-10T13:00:00Z\n")),
	)
	want := map[domain.Kind]KindSummary{domain.KindDeployment: ks(2, 2, 0, 0), domain.KindIncident: ks(2, 2, 0, 0)}
	if got := byKind(sum); !reflect.DeepEqual(got, want) {
		t.Errorf("ByKind = %+v", got)
	}

	t.Run("not gzip", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("ok.ndjson", nd(depLine("d1"))), src("plain.ndjson.gz", nd(depLine("d2")))}, Options{})
		if err == nil || !strings.Contains(err.Error(), "plain.ndjson.gz") || !strings.Contains(err.Error(), "gzip") {
			t.Fatalf("err = %v", err)
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
	t.Run("truncated gzip", func(t *testing.T) {
		st := newStore(t)
		var lines []string
		for i := range 2000 {
			lines = append(lines, depLine(fmt.Sprintf("d%d", i)))
		}
		z := gz(t, nd(lines...))
		_, err := doImport(context.Background(), st, []Source{src("cut.ndjson.gz", z[:len(z)/2])}, Options{})
		if err == nil || !strings.Contains(err.Error(), "cut.ndjson.gz") {
			t.Fatalf("err = %v, want an error naming the file", err)
		}
		rows := []string{depHeader}
		for i := range 2000 {
			rows = append(rows, depRow(fmt.Sprintf("d%d", i)))
		}
		z = gz(t, strings.Join(rows, "\n"))
		_, err = doImport(context.Background(), st, []Source{src("deployments.csv.gz", z[:len(z)/2])}, Options{SkipInvalid: true})
		if err == nil || !strings.Contains(err.Error(), "deployments.csv.gz") {
			t.Fatalf("err = %v, want an error naming the file", err)
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
}

func TestImportBOMBlankLinesCRLF(t *testing.T) {
	t.Run("ndjson", func(t *testing.T) {
		st := newStore(t)
		in := "\ufeff" + depLine("d1") + "\r\n" + // 1
			"\r\n" + // 2
			"   \t \r\n" + // 3
			depLine("d2") + "\r\n" + // 4
			"\n" + // 5
			depLine("d3") // 6, no final newline
		sum := mustImport(t, st, Options{}, src("win.ndjson", in))
		if sum.Records != 3 || counts(t, st)[domain.KindDeployment] != 3 {
			t.Fatalf("records = %d, stored %v", sum.Records, counts(t, st))
		}
		// Line numbers count blank lines.
		bad := in + "\r\n\r\n" + `{"kind":"deployment","id":"d9"}` + "\r\n"
		_, err := doImport(context.Background(), st, []Source{src("win.ndjson", bad)}, Options{})
		inv := wantInvalid(t, err)
		// One record, its four missing fields each listed.
		if inv.Count != 1 || len(inv.Lines) != 4 || inv.Lines[0].Line != 8 || inv.Lines[3].Line != 8 {
			t.Errorf("InvalidError = %+v, want line 8", inv)
		}
	})
	t.Run("BOM alone on the first line", func(t *testing.T) {
		st := newStore(t)
		mustImport(t, st, Options{}, src("b.ndjson", "\ufeff\n"+depLine("d1")+"\n"))
		if counts(t, st)[domain.KindDeployment] != 1 {
			t.Error("not imported")
		}
	})
	t.Run("csv", func(t *testing.T) {
		st := newStore(t)
		in := "\ufeff" + depHeader + "\r\n" + // 1
			depRow("d1") + "\r\n" + // 2
			"\r\n" + // 3
			depRow("d2") + "\r\n" + // 4
			"\r\n" + // 5
			depRow("d3") // 6, no final newline
		sum := mustImport(t, st, Options{}, src("deployments.csv", in))
		if sum.Records != 3 || counts(t, st)[domain.KindDeployment] != 3 {
			t.Fatalf("records = %d, stored %v", sum.Records, counts(t, st))
		}
		if d := getDeployment(t, st, "d3"); d.Status != "success" {
			t.Errorf("last field read as %q (CR kept?)", d.Status)
		}
		bad := in + "\r\n\r\nd9,api,production,2026-03-10T12:00:00Z,fine\r\n"
		_, err := doImport(context.Background(), st, []Source{src("deployments.csv", bad)}, Options{})
		inv := wantInvalid(t, err)
		if len(inv.Lines) != 1 || inv.Lines[0].Line != 8 || inv.Lines[0].Field != "status" {
			t.Errorf("InvalidError = %+v, want line 8 field status", inv)
		}
	})
	t.Run("gzipped csv with BOM", func(t *testing.T) {
		st := newStore(t)
		mustImport(t, st, Options{}, src("deployments.csv.gz", gz(t, "\ufeff"+depHeader+"\r\n"+depRow("d1")+"\r\n")))
		if counts(t, st)[domain.KindDeployment] != 1 {
			t.Error("not imported")
		}
	})
}

func TestImportLongLines(t *testing.T) {
	// A line of n bytes whose record stays within SPEC §1's bounds: a
	// title of the most free text allows, the rest blank space between
	// the members (which a record's size does not count).
	longChange := func(id string, n int) string {
		line := fmt.Sprintf(`{"kind":"change","id":%q,"service":"api","merged_at":"2026-03-09T10:00:00Z","title":"%s"}`, id, strings.Repeat("x", domain.MaxText))
		return strings.Replace(line, ",", ","+strings.Repeat(" ", max(0, n-len(line))), 1)
	}

	t.Run("longer than the read buffer is fine", func(t *testing.T) {
		st := newStore(t)
		const n = 3<<20 + 12345 // several times the 1 MiB buffer
		if len(longChange("c1", n)) != n {
			t.Fatal("bad test line")
		}
		mustImport(t, st, Options{}, src("long.ndjson", nd(depLine("d1"), longChange("c1", n), depLine("d2"))))
		r, err := st.Get(context.Background(), domain.Key{Kind: domain.KindChange, Source: "import", ID: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		var c domain.Change
		if err := json.Unmarshal(r.Body, &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Title) != domain.MaxText {
			t.Errorf("title has %d bytes, want %d", len(c.Title), domain.MaxText)
		}
		if got := counts(t, st); got[domain.KindDeployment] != 2 || got[domain.KindChange] != 1 {
			t.Errorf("counts = %v", got)
		}
	})

	// A line longer than MaxLine is not read into memory: it is refused
	// as an invalid record of its line, as a record over 1 MiB is, and
	// the lines after it are still checked (and, skipping, land). It had
	// stopped the import with "line longer than …", no line of errors[]
	// for the API.
	t.Run("longer than MaxLine", func(t *testing.T) {
		st := newStore(t)
		mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("d0"))))
		before := snap(t, st)
		in := func() []Source {
			return []Source{
				src("first.ndjson", nd(depLine("d1"))),
				src("big.ndjson", nd(depLine("d2"), depLine("d3"), longChange("c1", 3<<20), depLine("d4"), depLineStatus("d5", "fine"))),
			}
		}
		want := "big.ndjson:3: the line is 3145728 bytes; a record is at most 1 MiB (1048576 bytes)"
		_, err := doImport(context.Background(), st, in(), Options{MaxLine: 2 << 20})
		inv := wantInvalid(t, err)
		if inv.Count != 2 || len(inv.Lines) != 2 || inv.Lines[0].Error() != want || inv.Lines[0].Field != "" ||
			inv.Lines[1].Line != 5 || inv.Lines[1].Field != "status" {
			t.Fatalf("InvalidError = %v, want %q then line 5's status", err, want)
		}
		assertUnchanged(t, st, before)
		sum := mustImport(t, st, Options{MaxLine: 2 << 20, SkipInvalid: true}, in()...)
		if sum.Invalid != 2 || len(sum.Skipped) != 2 || sum.Skipped[0].Error() != want {
			t.Fatalf("skipping: summary %+v", sum)
		}
		if got := counts(t, st); got[domain.KindDeployment] != 5 || got[domain.KindChange] != 0 {
			t.Errorf("skipping: counts = %v, want d0–d4", got)
		}
	})

	t.Run("longer than MaxLine, at the end without a newline", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("big.ndjson", depLine("d1")+"\n"+longChange("c1", 3<<20))}, Options{MaxLine: 2 << 20})
		inv := wantInvalid(t, err)
		if len(inv.Lines) != 1 || inv.Lines[0].Error() != "big.ndjson:2: the line is 3145728 bytes; a record is at most 1 MiB (1048576 bytes)" {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("MaxLine below the read buffer", func(t *testing.T) {
		st := newStore(t)
		line := func(id string, size int) string {
			base := fmt.Sprintf(`{"kind":"service","id":%q,"name":""}`, id)
			return fmt.Sprintf(`{"kind":"service","id":%q,"name":"%s"}`, id, strings.Repeat("n", size-len(base)))
		}
		exact, over := line("s1", 100), line("s2", 101)
		if len(exact) != 100 || len(over) != 101 {
			t.Fatal("bad test lines")
		}
		// Exactly MaxLine bytes (the newline, or CRLF's LF, not counted).
		mustImport(t, st, Options{MaxLine: 100}, src("ok.ndjson", exact+"\n"+exact))
		before := snap(t, st)
		_, err := doImport(context.Background(), st, []Source{src("small.ndjson", nd(exact, over, exact, `{"kind":"service"}`))}, Options{MaxLine: 100})
		inv := wantInvalid(t, err)
		if inv.Count != 2 || inv.Lines[0].Error() != "small.ndjson:2: the line is 101 bytes; a line is at most 100 bytes here" || inv.Lines[1].Line != 4 {
			t.Fatalf("err = %v, want small.ndjson:2: the line is 101 bytes, then line 4", err)
		}
		assertUnchanged(t, st, before)
	})
}

func TestImportCSVRecordLimit(t *testing.T) {
	st := newStore(t)
	// A valid record near the limit, spanning lines, is fine.
	note := strings.Repeat("n", 400) + "\n" + strings.Repeat("m", 400)
	mustImport(t, st, Options{MaxLine: 1000}, src("changes.csv", "id,service,merged_at,title\n"+
		`c1,api,2026-03-09T10:00:00Z,"`+note+`"`+"\n"))

	// An unclosed quote would swallow the rest of the file into one field:
	// the import stops at MaxLine instead of reading it all into memory.
	head := depHeader + "\n" + depRow("d1") + "\n"
	first := true
	g := &lineReader{n: 1_000_000, line: func(b []byte, i int) []byte {
		if first {
			first = false
			b = append(b, head+`d2,"api,production,2026-03-10T12:00:00Z,success`+"\n"...)
		}
		return fmt.Appendf(b, "d%d,api,production,2026-03-10T12:00:00Z,success\n", i)
	}}
	before := snap(t, st)
	_, err := doImport(context.Background(), st, []Source{{Name: "deployments.csv", Reader: g}}, Options{MaxLine: 1 << 20, SkipInvalid: true})
	want := fmt.Sprintf("deployments.csv: the record starting at byte %d (after line 2) is longer than %d bytes", len(head), 1<<20)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if g.i >= g.n {
		t.Error("the whole stream was read")
	}
	assertUnchanged(t, st, before)
}

// ---------------------------------------------------------------------------
// Invalid input

func TestImportInvalidChangesNothing(t *testing.T) {
	// More valid records than one chunk before the bad line, so some were
	// already handed to the batch when the bad line is met.
	var good []string
	for i := range chunkSize + 500 {
		good = append(good, depLine(fmt.Sprintf("g%05d", i)))
	}
	good = append(good, depLineStatus("d0", "failure"), svcLine("new-svc")) // a replacement and a new kind

	bad := nd(
		depLine("b1"),
		depLine("b2"),
		`{"kind":"deployment","id":"b3","service":"api","environment":"production","finished_at":"yesterday","status":"success"}`,
		depLine("b4"),
	)

	cases := []struct {
		name    string
		sources func() []Source
	}{
		{"bad file after a good one", func() []Source {
			return []Source{src("good.ndjson", nd(good...)), src("bad.ndjson", bad)}
		}},
		{"bad file before a good one", func() []Source {
			return []Source{src("bad.ndjson", bad), src("good.ndjson", nd(good...))}
		}},
		{"bad gzip file after a good csv", func() []Source {
			return []Source{src("deployments.csv", depHeader+"\n"+depRow("c1")+"\n"), src("bad.ndjson.gz", gz(t, bad))}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := newStore(t)
			mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("d0"), depLine("d1"), incLine("i0"))))
			before := snap(t, st)

			sum, err := doImport(context.Background(), st, c.sources(), Options{})
			inv := wantInvalid(t, err)
			file := "bad.ndjson"
			if strings.Contains(c.name, "gzip") {
				file = "bad.ndjson.gz"
			}
			if inv.Count != 1 || len(inv.Lines) != 1 {
				t.Fatalf("InvalidError = %+v", inv)
			}
			l := inv.Lines[0]
			if l.File != file || l.Line != 3 || l.Field != "finished_at" || !strings.Contains(l.Reason, "RFC 3339") {
				t.Errorf("LineError = %+v", l)
			}
			if msg := err.Error(); !strings.Contains(msg, file+":3: field finished_at: ") || !strings.Contains(msg, "nothing was imported") {
				t.Errorf("error message = %q", msg)
			}
			assertUnchanged(t, st, before)
			// The summary must not claim writes that were rolled back.
			if sum != nil {
				if sum.Inserted != 0 || sum.Replaced != 0 || sum.Unchanged != 0 {
					t.Errorf("failed import's summary claims writes: %+v", sum.WriteResult)
				}
				for k, v := range sum.ByKind {
					if v.WriteResult != (store.WriteResult{}) {
						t.Errorf("failed import's summary claims %s writes: %+v", k, v.WriteResult)
					}
				}
				if sum.Invalid != 1 {
					t.Errorf("summary Invalid = %d", sum.Invalid)
				}
			}
		})
	}
}

func TestImportInvalidErrorsNameFileLineField(t *testing.T) {
	st := newStore(t)
	mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("d0"))))
	before := snap(t, st)
	in := nd(
		depLine("ok1"), // 1
		`{"kind":"deployment","id":"x2","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"ok"}`,                // 2 bad enum
		`{"kind":"deployment","id":"x3","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`,                           // 3 missing
		`{"kind":"deployment","id":"x4","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","color":1}`, // 4 unknown
		`{"kind":"deployment","id":"x5","service":"api",`, // 5 broken JSON
		"",                           // 6 blank
		`{"kind":"gizmo","id":"x7"}`, // 7 unknown kind
		`{"kind":"deployment","id":"x8","id":"x8b","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`, // 8 duplicate
		`[1,2,3]`, // 9 not an object
		`{"kind":"deployment","id":"x10","service":"api","environment":"production","started_at":"2026-03-10T13:00:00Z","finished_at":"2026-03-10T12:00:00Z","status":"success"}`, // 10 order
		depLine("ok11"), // 11
	)
	_, err := doImport(context.Background(), st, []Source{src("many.ndjson", in)}, Options{})
	inv := wantInvalid(t, err)
	type want struct {
		line   int
		field  string
		reason string
	}
	wants := []want{
		{2, "status", `"ok" is not one of`},
		{3, "service", "required"},
		{4, "color", "unknown field"},
		{5, "", "not a JSON object"},
		{7, "kind", "gizmo"},
		{8, "id", "twice"},
		{9, "", "not a JSON object"},
		{10, "finished_at", "before started_at"},
	}
	if inv.Count != len(wants) || len(inv.Lines) != len(wants) {
		t.Fatalf("Count %d, %d lines: %v", inv.Count, len(inv.Lines), inv)
	}
	for i, w := range wants {
		l := inv.Lines[i]
		if l.File != "many.ndjson" || l.Line != w.line || l.Field != w.field || !strings.Contains(l.Reason, w.reason) {
			t.Errorf("line error %d = %+v, want line %d field %q reason ~ %q", i, l, w.line, w.field, w.reason)
		}
		prefix := fmt.Sprintf("many.ndjson:%d: ", w.line)
		if w.field != "" {
			prefix += "field " + w.field + ": "
		}
		if !strings.HasPrefix(l.Error(), prefix) || !strings.Contains(err.Error(), "\n  "+l.Error()) {
			t.Errorf("%q should start with %q and be listed in %q", l.Error(), prefix, err)
		}
	}
	if !strings.HasPrefix(err.Error(), "8 invalid records; nothing was imported") {
		t.Errorf("error = %q", err)
	}
	assertUnchanged(t, st, before)
}

func TestImportInvalidListBounded(t *testing.T) {
	badLine := func(i int) string {
		return fmt.Sprintf(`{"kind":"deployment","id":"x%d","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"nope"}`, i)
	}
	t.Run("MaxErrors", func(t *testing.T) {
		st := newStore(t)
		var a, b []string
		var wantLines []LineError
		for i := 1; i <= 10; i++ {
			if i%2 == 0 {
				a = append(a, badLine(i))
				wantLines = append(wantLines, LineError{File: "a.ndjson", Line: i})
			} else {
				a = append(a, depLine(fmt.Sprintf("ok%d", i)))
			}
		}
		b = append(b, badLine(100), badLine(101), badLine(102))
		_, err := doImport(context.Background(), st, []Source{src("a.ndjson", nd(a...)), src("b.ndjson", nd(b...))}, Options{MaxErrors: 6})
		inv := wantInvalid(t, err)
		wantLines = append(wantLines, LineError{File: "b.ndjson", Line: 1})
		if inv.Count != 8 || len(inv.Lines) != 6 {
			t.Fatalf("Count %d, %d lines, want 8 and 6", inv.Count, len(inv.Lines))
		}
		for i, w := range wantLines {
			if l := inv.Lines[i]; l.File != w.File || l.Line != w.Line || l.Field != "status" {
				t.Errorf("line %d = %+v, want %s:%d status", i, l, w.File, w.Line)
			}
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "8 invalid records") || !strings.HasSuffix(msg, "… and 2 more problems") {
			t.Errorf("error = %q", msg)
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
	t.Run("default 100", func(t *testing.T) {
		st := newStore(t)
		var lines []string
		for i := range 150 {
			lines = append(lines, badLine(i))
		}
		_, err := doImport(context.Background(), st, []Source{src("a.ndjson", nd(lines...))}, Options{})
		inv := wantInvalid(t, err)
		if inv.Count != 150 || len(inv.Lines) != 100 || inv.Lines[99].Line != 100 {
			t.Fatalf("Count %d, %d lines", inv.Count, len(inv.Lines))
		}
		if !strings.HasSuffix(err.Error(), "… and 50 more problems") {
			t.Errorf("error should end with the count of the rest: …%q", err.Error()[len(err.Error())-40:])
		}
	})
}

func TestImportSkipInvalid(t *testing.T) {
	st := newStore(t)
	mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("d0"))))
	in := nd(
		depLine("d1"), // 1
		`{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"soon","status":"success"}`, // 2
		incLine("i1"),                      // 3
		"",                                 // 4
		`not json`,                         // 5
		depLineStatus("d0", "rolled_back"), // 6: replaces the seed
	)
	csvIn := depHeader + "\n" + depRow("c1") + "\n" + "c2,api,production,2026-03-10T12:00:00Z\n" + depRow("c3") + "\n"
	sum, err := doImport(context.Background(), st, []Source{src("mixed.ndjson", in), src("deployments.csv", csvIn)}, Options{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 5 || sum.Invalid != 3 || sum.Inserted != 4 || sum.Replaced != 1 || sum.Unchanged != 0 {
		t.Errorf("summary = records %d invalid %d %+v", sum.Records, sum.Invalid, sum.WriteResult)
	}
	want := map[domain.Kind]KindSummary{domain.KindDeployment: ks(4, 3, 1, 0), domain.KindIncident: ks(1, 1, 0, 0)}
	if got := byKind(sum); !reflect.DeepEqual(got, want) {
		t.Errorf("ByKind = %+v", got)
	}
	var got []string
	for _, l := range sum.Skipped {
		got = append(got, fmt.Sprintf("%s:%d:%s", l.File, l.Line, l.Field))
	}
	if wantSkipped := []string{"mixed.ndjson:2:finished_at", "mixed.ndjson:5:", "deployments.csv:3:"}; !slices.Equal(got, wantSkipped) {
		t.Errorf("Skipped = %v, want %v", got, wantSkipped)
	}
	wantKeys := []string{"deployment/import/c1", "deployment/import/c3", "deployment/import/d0", "deployment/import/d1", "incident/import/i1"}
	if k := keysOf(t, st); !slices.Equal(k, wantKeys) {
		t.Errorf("stored %v, want %v", k, wantKeys)
	}
	if d := getDeployment(t, st, "d0"); d.Status != "rolled_back" {
		t.Errorf("d0 not replaced: %+v", d)
	}
	out := FormatSummary(sum)
	for _, s := range []string{"deployment", "incident", "3 invalid records skipped", "mixed.ndjson:2: field finished_at: ", "deployments.csv:3: "} {
		if !strings.Contains(out, s) {
			t.Errorf("FormatSummary lacks %q:\n%s", s, out)
		}
	}

	t.Run("listing bounded by MaxErrors", func(t *testing.T) {
		st := newStore(t)
		sum, err := doImport(context.Background(), st, []Source{src("x.ndjson", nd("{", depLine("d1"), "{", "{", depLine("d2")))}, Options{SkipInvalid: true, MaxErrors: 2})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Invalid != 3 || len(sum.Skipped) != 2 || sum.Skipped[0].Line != 1 || sum.Skipped[1].Line != 3 || sum.Records != 2 {
			t.Errorf("Invalid %d Skipped %+v Records %d", sum.Invalid, sum.Skipped, sum.Records)
		}
		if !strings.Contains(FormatSummary(sum), "… and 1 more") {
			t.Errorf("FormatSummary:\n%s", FormatSummary(sum))
		}
		if counts(t, st)[domain.KindDeployment] != 2 {
			t.Error("valid lines did not land")
		}
	})
	t.Run("every line invalid", func(t *testing.T) {
		st := newStore(t)
		sum, err := doImport(context.Background(), st, []Source{src("x.ndjson", nd("{", "{"))}, Options{SkipInvalid: true})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Invalid != 2 || sum.Records != 0 || len(keysOf(t, st)) != 0 {
			t.Errorf("summary %+v", sum)
		}
	})
}

func TestImportCSVErrors(t *testing.T) {
	quoting := depHeader + "\n" + // 1
		depRow("d1") + "\n" + // 2
		`d2,api,"produ"ction,2026-03-10T12:00:00Z,success` + "\n" + // 3: extraneous quote
		depRow("d3") + "\n" + // 4
		"d4,api,production,2026-03-10T12:00:00Z\n" + // 5: a field short
		`d5,a"pi,production,2026-03-10T12:00:00Z,success` + "\n" + // 6: bare quote
		`d6,api,production,2026-03-10T12:00:00Z,success,extra` + "\n" + // 7: a field too many
		`d7,api,"production` + "\n" + // 8: a quoted field running on…
		depRow("d8") + "\n" + // 9: …into this line
		`",2026-03-10T12:00:00Z,success` + "\n" + // 10: …and ends here: d7 is valid
		depRow("d9") + "\n" + // 11
		`"d10,api,production,2026-03-10T12:00:00Z,success` + "\n" + // 12: never closed…
		depRow("d11") + "\n" // 13: …so this line is part of it

	type want struct {
		line   int
		reason string
	}
	wants := []want{
		{3, `extraneous or missing " in quoted-field (line 3, column`},
		{5, "wrong number of fields: 4 fields, the header has 5"},
		{6, `bare " in non-quoted-field (line 6, column 5)`},
		{7, "wrong number of fields: 6 fields, the header has 5"},
		{12, `extraneous or missing " in quoted-field (line 13, column 49)`},
	}
	check := func(t *testing.T, lines []LineError) {
		t.Helper()
		if len(lines) != len(wants) {
			t.Fatalf("%d errors, want %d: %+v", len(lines), len(wants), lines)
		}
		for i, w := range wants {
			if l := lines[i]; l.File != "deployments.csv" || l.Line != w.line || !strings.Contains(l.Reason, w.reason) {
				t.Errorf("error %d = %+v, want line %d reason ~ %q", i, l, w.line, w.reason)
			}
		}
	}

	t.Run("all reported", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("deployments.csv", quoting)}, Options{})
		inv := wantInvalid(t, err)
		check(t, inv.Lines)
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
	t.Run("skip invalid: rows after a quoting error land", func(t *testing.T) {
		st := newStore(t)
		sum, err := doImport(context.Background(), st, []Source{src("deployments.csv", quoting)}, Options{SkipInvalid: true})
		if err != nil {
			t.Fatal(err)
		}
		check(t, sum.Skipped)
		want := []string{"deployment/import/d1", "deployment/import/d3", "deployment/import/d7", "deployment/import/d9"}
		if got := keysOf(t, st); !slices.Equal(got, want) {
			t.Errorf("stored %v, want %v", got, want)
		}
		// A quoted field may span lines: d8's line is inside d7's.
		if d := getDeployment(t, st, "d7"); d.Environment != "production\n"+depRow("d8") {
			t.Errorf("d7 environment = %q", d.Environment)
		}
	})
	t.Run("bare quote in the first field", func(t *testing.T) {
		st := newStore(t)
		_, err := doImport(context.Background(), st, []Source{src("deployments.csv", depHeader+"\n"+`d"1,api,production,2026-03-10T12:00:00Z,success`+"\n"+depRow("d2")+"\n")}, Options{})
		inv := wantInvalid(t, err)
		if len(inv.Lines) != 1 || inv.Lines[0].Line != 2 || !strings.Contains(inv.Lines[0].Reason, "bare") {
			t.Errorf("InvalidError = %+v", inv)
		}
	})

	headers := []struct {
		name, header, want string
	}{
		{"duplicate", "id,service,id,environment", `column "id" appears twice`},
		{"duplicate after trimming", "id, service ,service,environment", `column "service" appears twice`},
		{"empty", "id,,service", "column 2 has no name"},
		{"blank", "id,service,  ", "column 3 has no name"},
		{"quoting", `id,"service`, "x.csv:1:"},
	}
	for _, h := range headers {
		t.Run("header "+h.name, func(t *testing.T) {
			st := newStore(t)
			_, err := doImport(context.Background(), st, []Source{src("ok.ndjson", nd(depLine("d0"))), src("x.csv", h.header+"\nd1,api,x,production\n")}, Options{Kind: domain.KindDeployment})
			if err == nil {
				t.Fatal("no error")
			}
			var inv *InvalidError
			if errors.As(err, &inv) {
				t.Fatalf("InvalidError %v, want the file refused", err)
			}
			if !strings.Contains(err.Error(), h.want) || !strings.Contains(err.Error(), "x.csv") {
				t.Errorf("error %q should contain %q and the file name", err, h.want)
			}
			if len(keysOf(t, st)) != 0 {
				t.Error("something was stored")
			}
		})
	}
	// A header that lacks a column every record needs, or names one the
	// kind does not have, is one problem of line 1, not one per row: an
	// InvalidError of the header (the API's errors[] with line and field),
	// the file refused, with --skip-invalid too.
	columns := []struct {
		name, header, row, field, want string
	}{
		{"missing required", "id,service,environment,status", "api,production,success", "finished_at", "deployments.csv:1: field finished_at: the header lacks this column: every deployment record needs it"},
		{"misspelt required", "id,service,environment,finishd_at,status", "api,production,2026-03-10T12:00:00Z,success", "finished_at", `deployments.csv:1: field finished_at: the header lacks this column: every deployment record needs it (the header has "finishd_at": a typo?)`},
		{"unknown", depHeader + ",colour", "api,production,2026-03-10T12:00:00Z,success,red", "colour", `deployments.csv:1: field colour: not a field of kind deployment (known: change_request, changes, commit, coverage, cutover_at, emergency, env_type, environment, finished_at, id, kind, pipeline_url, reason, retro_validated_at, risk_score, rollback_of, service, source, started_at, status, version)`},
		{"unknown near a field", depHeader + ",verison", "api,production,2026-03-10T12:00:00Z,success,1.2", "verison", `deployments.csv:1: field verison: not a field of kind deployment (did you mean "version"?)`},
	}
	for _, c := range columns {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("columns %s skip %v", c.name, skip), func(t *testing.T) {
				st := newStore(t)
				var body strings.Builder
				body.WriteString(c.header + "\n")
				for i := range 500 {
					fmt.Fprintf(&body, "d%d,%s\n", i, c.row)
				}
				_, err := doImport(context.Background(), st, []Source{src("deployments.csv", body.String())}, Options{SkipInvalid: skip})
				var inv *InvalidError
				if !errors.As(err, &inv) || !inv.Header || len(inv.Lines) != 1 {
					t.Fatalf("err = %v, want the header refused once", err)
				}
				if l := inv.Lines[0]; l.Line != 1 || l.Field != c.field || l.Error() != c.want {
					t.Errorf("problem %+v\n= %q\nwant %q", l, l.Error(), c.want)
				}
				if !strings.HasPrefix(err.Error(), "the CSV header is refused; nothing was imported") {
					t.Errorf("err = %q", err)
				}
				if len(keysOf(t, st)) != 0 {
					t.Error("something was stored")
				}
			})
		}
	}
	t.Run("header only", func(t *testing.T) {
		st := newStore(t)
		sum := mustImport(t, st, Options{}, src("deployments.csv", depHeader+"\n"), src("empty.csv", ""))
		if sum.Records != 0 || len(sum.ByKind) != 0 {
			t.Errorf("summary %+v", sum)
		}
	})
}

// A CSV whose kind column names the rows' kind is checked against each
// kind at its first row: a column every record of the kind needs missing
// from the header, or one the kind does not have, is one problem of line 1
// naming the column, not one a row ("many.csv:2: field finished_at:
// required" … "and 19900 more problems"), and the file is refused, with
// --skip-invalid too.
func TestImportCSVKindColumnHeader(t *testing.T) {
	cases := []struct {
		name, header string
		rows         []string
		want         []string
	}{
		{"missing required", "kind,id,service,environment,status", []string{"deployment,%s,api,production,success"},
			[]string{"many.csv:1: field finished_at: the header lacks this column: every deployment record needs it; line 2 is the first deployment"}},
		{"misspelt required", "kind,id,service,environment,finishd_at,status", []string{"deployments,%s,api,production,2026-03-10T12:00:00Z,success"},
			[]string{`many.csv:1: field finished_at: the header lacks this column: every deployment record needs it (the header has "finishd_at": a typo?); line 2 is the first deployment`}},
		{"unknown", "kind,id,service,environment,finished_at,status,verison", []string{"deployment,%s,api,production,2026-03-10T12:00:00Z,success,1.2"},
			[]string{`many.csv:1: field verison: not a field of kind deployment (did you mean "version"?); line 2 is the first deployment`}},
		// Every kind the column names is checked, each once.
		{"two kinds", "kind,id,service,environment,finished_at,status,merged_at", []string{
			"deployment,%s,api,production,2026-03-10T12:00:00Z,success,",
			"change,c%s,api,,,,2026-03-10T12:00:00Z",
		}, []string{
			`many.csv:1: field merged_at: not a field of kind deployment (known: change_request, changes, commit, coverage, cutover_at, emergency, env_type, environment, finished_at, id, kind, pipeline_url, reason, retro_validated_at, risk_score, rollback_of, service, source, started_at, status, version); line 2 is the first deployment`,
			`many.csv:1: field environment: not a field of kind change (known: author, authored_at, commit, first_review_at, id, kind, merged_at, opened_at, service, source, title, url); line 3 is the first change`,
			`many.csv:1: field finished_at: not a field of kind change (known: author, authored_at, commit, first_review_at, id, kind, merged_at, opened_at, service, source, title, url); line 3 is the first change`,
			`many.csv:1: field status: not a field of kind change (known: author, authored_at, commit, first_review_at, id, kind, merged_at, opened_at, service, source, title, url); line 3 is the first change`,
		}},
	}
	for _, c := range cases {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s skip %v", c.name, skip), func(t *testing.T) {
				st := newStore(t)
				mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("d0"))))
				before := snap(t, st)
				var body strings.Builder
				body.WriteString(c.header + "\n")
				// More rows than a chunk, so that some are written before
				// the import fails.
				for i := range 5000 {
					fmt.Fprintf(&body, c.rows[i%len(c.rows)]+"\n", fmt.Sprintf("d%d", i))
				}
				_, err := doImport(context.Background(), st, []Source{src("many.csv", body.String())}, Options{SkipInvalid: skip})
				var inv *InvalidError
				if !errors.As(err, &inv) || !inv.Header {
					t.Fatalf("err = %v, want the header refused", err)
				}
				var got []string
				for _, l := range inv.Lines {
					got = append(got, l.Error())
				}
				if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
					t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
				}
				if !strings.HasPrefix(err.Error(), "the CSV header is refused; nothing was imported\n") {
					t.Errorf("err = %q", err)
				}
				assertUnchanged(t, st, before)
			})
		}
	}
	// A header that fits the kinds its rows name imports; a row's own
	// problems are still its own.
	t.Run("fits", func(t *testing.T) {
		st := newStore(t)
		in := "kind,id,service,environment,finished_at,status\ndeployment,d1,api,production,2026-03-10T12:00:00Z,success\ndeployment,d2,api,production,2026-03-10T12:00:00Z,fine\nnonsense,d3,api,production,2026-03-10T12:00:00Z,success\n"
		_, err := doImport(context.Background(), st, []Source{src("many.csv", in)}, Options{})
		inv := wantInvalid(t, err)
		if inv.Header || inv.Count != 2 || len(inv.Lines) != 2 || inv.Lines[0].Line != 3 || inv.Lines[0].Field != "status" || inv.Lines[1].Line != 4 || inv.Lines[1].Field != "kind" {
			t.Fatalf("err = %v", err)
		}
		sum := mustImport(t, st, Options{SkipInvalid: true}, src("many.csv", in))
		if sum.Records != 1 || sum.Invalid != 2 {
			t.Errorf("summary %+v", sum)
		}
	})
}

// ---------------------------------------------------------------------------
// Idempotency

func TestImportIdempotent(t *testing.T) {
	ctx := context.Background()
	lines := []string{svcLine("api"), svcLine("web")}
	for i := range 5 {
		lines = append(lines, depLine(fmt.Sprintf("d%d", i)))
	}
	lines = append(lines, incLine("i1"), incLine("i2"), chgLine("c1"))
	file := nd(lines...)

	st := newStore(t)
	first := mustImport(t, st, Options{}, src("all.ndjson", file))
	if first.Inserted != 10 || first.Replaced != 0 || first.Unchanged != 0 {
		t.Fatalf("first import %+v", first.WriteResult)
	}
	after1 := snap(t, st)

	second := mustImport(t, st, Options{}, src("all.ndjson", file))
	if second.Records != 10 || second.Inserted != 0 || second.Replaced != 0 || second.Unchanged != 10 {
		t.Errorf("second import %+v, want all 10 unchanged", second.WriteResult)
	}
	want := map[domain.Kind]KindSummary{
		domain.KindService:    ks(2, 0, 0, 2),
		domain.KindDeployment: ks(5, 0, 0, 5),
		domain.KindIncident:   ks(2, 0, 0, 2),
		domain.KindChange:     ks(1, 0, 0, 1),
	}
	if got := byKind(second); !reflect.DeepEqual(got, want) {
		t.Errorf("second ByKind = %+v", got)
	}
	if second.Seconds <= 0 || second.PerSecond <= 0 {
		t.Errorf("Seconds %v PerSecond %v", second.Seconds, second.PerSecond)
	}
	assertUnchanged(t, st, after1)

	// The same records gzipped, reformatted, or as CSV are the same records.
	reformatted := strings.ReplaceAll(strings.ReplaceAll(file, `","`, `", "`), "\n", "\r\n\n")
	third := mustImport(t, st, Options{},
		src("all.ndjson.gz", gz(t, reformatted)),
		src("deployments.csv", depHeader+"\n"+depRow("d0")+"\n"+depRow("d1")+"\n"),
	)
	// d0 and d1 twice in one import: repeats, not counted unchanged.
	if third.Records != 12 || third.Unchanged != 10 || third.Repeated != 2 {
		t.Errorf("re-import of the same records in other forms: %+v, %d repeated", third.WriteResult, third.Repeated)
	}
	assertUnchanged(t, st, after1)

	// One record changed: one replaced, with a new sequence number.
	lines[3] = depLineStatus("d1", "failure")
	fourth := mustImport(t, st, Options{}, src("all.ndjson", nd(lines...)))
	if fourth.Inserted != 0 || fourth.Replaced != 1 || fourth.Unchanged != 9 {
		t.Errorf("one change: %+v", fourth.WriteResult)
	}
	want[domain.KindService] = ks(2, 0, 0, 2)
	want[domain.KindDeployment] = ks(5, 0, 1, 4)
	if got := byKind(fourth); !reflect.DeepEqual(got, want) {
		t.Errorf("fourth ByKind = %+v", got)
	}
	r, err := st.Get(ctx, depKey("d1"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq <= after1.last {
		t.Errorf("replaced record seq = %d, want > %d", r.Seq, after1.last)
	}
	if n, _ := st.LastSeq(ctx); n != r.Seq {
		t.Errorf("LastSeq = %d, want the replaced record's %d", n, r.Seq)
	}
	for k, row := range snap(t, st).rows {
		if k != depKey("d1") && row != after1.rows[k] {
			t.Errorf("%s changed: %+v", k, row)
		}
	}
	if d := getDeployment(t, st, "d1"); d.Status != "failure" {
		t.Errorf("d1 status %q", d.Status)
	}
	if got := counts(t, st); got[domain.KindDeployment] != 5 {
		t.Errorf("counts %v", got)
	}

	// A new record among known ones.
	fifth := mustImport(t, st, Options{}, src("more.ndjson", nd(append(lines, depLine("d9"))...)))
	if fifth.Inserted != 1 || fifth.Replaced != 0 || fifth.Unchanged != 10 {
		t.Errorf("one new: %+v", fifth.WriteResult)
	}
}

func TestImportCSVIdempotent(t *testing.T) {
	st := newStore(t)
	in := depHeader + "\n" + depRow("d1") + "\n" + depRow("d2") + "\n"
	mustImport(t, st, Options{}, src("deployments.csv", in))
	before := snap(t, st)
	sum := mustImport(t, st, Options{}, src("deployments.csv", in))
	if sum.Inserted != 0 || sum.Replaced != 0 || sum.Unchanged != 2 {
		t.Errorf("re-import %+v", sum.WriteResult)
	}
	assertUnchanged(t, st, before)
	sum = mustImport(t, st, Options{}, src("deployments.csv", strings.Replace(in, "d2,api,production", "d2,api,staging", 1)))
	if sum.Inserted != 0 || sum.Replaced != 1 || sum.Unchanged != 1 {
		t.Errorf("one change %+v", sum.WriteResult)
	}
}

// Re-importing the same line under another default currency yields another
// record, which must replace the stored one (SPEC §1: re-importing
// replaces).
func TestImportReplacesWhenDefaultsChange(t *testing.T) {
	st := newStore(t)
	line := nd(`{"kind":"cost","id":"bill-1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":100.50}`)
	mustImport(t, st, Options{Parse: domain.ParseOptions{DefaultCurrency: "USD"}}, src("cost.ndjson", line))
	sum := mustImport(t, st, Options{Parse: domain.ParseOptions{DefaultCurrency: "EUR"}}, src("cost.ndjson", line))
	if sum.Replaced != 1 {
		t.Errorf("re-import under EUR: %+v, want 1 replaced", sum.WriteResult)
	}
	r, err := st.Get(context.Background(), domain.Key{Kind: domain.KindCost, Source: "import", ID: "bill-1"})
	if err != nil {
		t.Fatal(err)
	}
	var c domain.Cost
	if err := json.Unmarshal(r.Body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Currency != "EUR" {
		t.Errorf("stored currency %q, want EUR", c.Currency)
	}
}

// ---------------------------------------------------------------------------
// Cancellation and progress

// lineReader produces n NDJSON deployment lines on the fly; after cancelAt
// lines it calls cancel.
type lineReader struct {
	n, i     int
	cancelAt int
	cancel   func()
	buf      []byte
	pos      int
	line     func(buf []byte, i int) []byte
}

func (g *lineReader) Read(p []byte) (int, error) {
	for g.pos >= len(g.buf) {
		if g.i >= g.n {
			return 0, io.EOF
		}
		g.buf, g.pos = g.buf[:0], 0
		for k := 0; k < 64 && g.i < g.n; k++ {
			if g.cancel != nil && g.i == g.cancelAt {
				g.cancel()
			}
			g.buf = g.line(g.buf, g.i)
			g.i++
		}
	}
	n := copy(p, g.buf[g.pos:])
	g.pos += n
	return n, nil
}

func genDeployment(buf []byte, i int) []byte {
	return fmt.Appendf(buf, `{"kind":"deployment","id":"d%07d","service":"svc%d","environment":"production","finished_at":"2026-03-%02dT%02d:%02d:00Z","status":"success","version":"v1.%d"}`+"\n",
		i, i%50, 1+i%28, i%24, i%60, i)
}

func TestImportCancel(t *testing.T) {
	t.Run("mid-stream", func(t *testing.T) {
		st := newStore(t)
		mustImport(t, st, Options{}, src("seed.ndjson", nd(depLine("seed"))))
		before := snap(t, st)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := &lineReader{n: 1_000_000, cancelAt: 3*chunkSize + 7, cancel: cancel, line: genDeployment}
		sum, err := doImport(ctx, st, []Source{src("before.ndjson", nd(depLine("x1"))), {Name: "stream.ndjson", Reader: g}}, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v (summary %+v), want context.Canceled", err, sum)
		}
		if g.i >= g.n {
			t.Error("the import read the whole stream after cancellation")
		}
		assertUnchanged(t, st, before)
		// The store is usable afterwards (the batch was released).
		mustImport(t, st, Options{}, src("after.ndjson", nd(depLine("after"))))
	})
	t.Run("csv", func(t *testing.T) {
		st := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		first := true
		g := &lineReader{n: 1_000_000, cancelAt: 5000, cancel: cancel, line: func(b []byte, i int) []byte {
			if first {
				first = false
				b = append(b, depHeader+"\n"...)
			}
			return fmt.Appendf(b, "d%d,api,production,2026-03-10T12:00:00Z,success\n", i)
		}}
		_, err := doImport(ctx, st, []Source{{Name: "deployments.csv", Reader: g}}, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if g.i >= g.n {
			t.Error("the import read the whole stream after cancellation")
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		st := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := doImport(ctx, st, []Source{src("a.ndjson", nd(depLine("d1")))}, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if len(keysOf(t, st)) != 0 {
			t.Error("something was stored")
		}
	})
}

func TestImportProgress(t *testing.T) {
	st := newStore(t)
	var big []string
	for i := range 10000 {
		big = append(big, depLine(fmt.Sprintf("d%d", i)))
	}
	a := nd(big...) // more than the 1 MiB read buffer: several reads
	b := gz(t, "id,service,severity,opened_at\ni1,api,P1,2026-03-10T13:00:00Z\n")
	c := nd(incLine("i2"))
	var calls []int64
	opt := Options{Progress: func(n int64) { calls = append(calls, n) }}
	mustImport(t, st, opt, src("a.ndjson", a), src("incidents.csv.gz", b), src("c.ndjson", c))
	total := int64(len(a) + len(b) + len(c))
	if len(calls) < 3 {
		t.Fatalf("progress called %d times", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] < calls[i-1] {
			t.Fatalf("progress went back: %d after %d", calls[i], calls[i-1])
		}
	}
	if calls[0] <= 0 || calls[0] >= int64(len(a)) {
		t.Errorf("first progress %d, want some of the first file", calls[0])
	}
	if last := calls[len(calls)-1]; last != total {
		t.Errorf("last progress %d, want the total %d", last, total)
	}
	if got := counts(t, st); got[domain.KindDeployment] != 10000 || got[domain.KindIncident] != 2 {
		t.Errorf("counts %v", got)
	}
}

// ---------------------------------------------------------------------------
// Memory

// TestImportMemoryFlat imports a stream of small records produced on the
// fly and checks that the live heap stays bounded during the import: the
// importer must not hold records, bodies or lines beyond its current chunk.
func TestImportMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 300k records")
	}
	// Holding every record, body or line would cost over 100 MB at 300k
	// records and over 10 MB at 30k; a few MB are expected (read buffers,
	// one chunk of records).
	n, bound := 300_000, uint64(32<<20)
	if raceEnabled {
		n, bound = 30_000, 10<<20 // the race detector makes each record many times dearer
	}
	step := int64(n) * 170 / 16 // about 16 samples
	st := newStore(t)
	g := &lineReader{n: n, line: genDeployment}
	var maxHeap, samples uint64
	var next int64
	var ms runtime.MemStats
	sample := func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		maxHeap = max(maxHeap, ms.HeapInuse)
		samples++
	}
	opt := Options{Progress: func(read int64) {
		if read >= next {
			next = read + step
			sample()
		}
	}}
	start := time.Now()
	sum := mustImport(t, st, opt, Source{Name: "stream.ndjson", Reader: g})
	sample()
	elapsed := time.Since(start)
	if sum.Records != int64(n) || sum.Inserted != int64(n) {
		t.Fatalf("imported %d records, inserted %d, want %d", sum.Records, sum.Inserted, n)
	}
	if got := counts(t, st)[domain.KindDeployment]; got != int64(n) {
		t.Fatalf("stored %d, want %d", got, n)
	}
	t.Logf("%d records in %v; max HeapInuse %.1f MB over %d samples", n, elapsed, float64(maxHeap)/(1<<20), samples)
	if samples < 10 {
		t.Errorf("only %d samples", samples)
	}
	if maxHeap > bound {
		t.Errorf("HeapInuse reached %.1f MB during the import, want < %d MB", float64(maxHeap)/(1<<20), bound>>20)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// Parse jobs, their line buffers and the per-kind slices are reused from
// chunk to chunk. Over many jobs of lines of different lengths and kinds,
// every stored record must still be exactly the one its line made: an
// item or key still pointing into a reused buffer would come out as
// another line's bytes.
func TestImportReusedBuffersKeepEveryRecord(t *testing.T) {
	var lines []string
	for i := range 40*jobLines + 37 {
		id := fmt.Sprintf("r%d-%s", i, strings.Repeat("x", i%17))
		switch i % 3 {
		case 0:
			lines = append(lines, depLine(id))
		case 1:
			lines = append(lines, incLine(id))
		default:
			lines = append(lines, chgLine(id))
		}
	}
	st := newStore(t)
	sum := mustImport(t, st, Options{}, src("many.ndjson", nd(lines...)))
	if sum.Inserted != int64(len(lines)) {
		t.Fatalf("inserted %d of %d", sum.Inserted, len(lines))
	}
	for i, line := range lines {
		rec, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := item(rec, sha256.Sum256([]byte(line)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Get(context.Background(), want.Key)
		if err != nil {
			t.Fatalf("line %d (%s): %v", i+1, want.Key, err)
		}
		if string(got.Body) != string(want.Body) || got.Hash != want.Hash || got.RawHash != want.RawHash {
			t.Fatalf("line %d: stored %s (raw %s), want %s (raw %s)", i+1, got.Body, got.RawHash, want.Body, want.RawHash)
		}
	}
}

type chunkySpy struct {
	*spyStore
	chunk int
}

func (c chunkySpy) StreamChunk() int { return c.chunk }

// A store may ask a streaming import for larger chunks (a PostgreSQL store
// does); the first chunkSize records still come alone, so an input under
// them can be held and grouped, and no chunk is smaller than chunkSize
// whatever a store asks.
func TestStreamChunk(t *testing.T) {
	var lines []string
	for i := range 12000 {
		lines = append(lines, depLine(fmt.Sprintf("s%05d", i)))
	}
	for _, c := range []struct {
		name string
		st   func(*spyStore) store.Store
		want []int
	}{
		{"the store's default", func(s *spyStore) store.Store { return s }, []int{2048, 2048, 2048, 2048, 2048, 1760}},
		{"a store asking for 8,192", func(s *spyStore) store.Store { return chunkySpy{s, 8192} }, []int{2048, 8192, 1760}},
		{"a store asking for 10", func(s *spyStore) store.Store { return chunkySpy{s, 10} }, []int{2048, 2048, 2048, 2048, 2048, 1760}},
	} {
		t.Run(c.name, func(t *testing.T) {
			spy := &spyStore{Store: newStore(t)}
			if _, err := Import(context.Background(), c.st(spy), []Source{src("d.ndjson", nd(lines...))}, Options{}); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, a := range spy.adds {
				got = append(got, len(a))
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("the store was handed %v records at a time, want %v", got, c.want)
			}
		})
	}
}

// remoteStore is a store that asks for its chunks to be written while the
// next is parsed (StreamChunker), as PostgreSQL does; failAt makes that
// AddEach of its batches fail (0: none), and inFlight counts the writes
// under way at once.
type remoteStore struct {
	store.Store
	failAt   int
	adds     atomic.Int32
	inFlight atomic.Int32
	maxOver  atomic.Int32
}

func (s *remoteStore) StreamChunk() int { return 3000 }

func (s *remoteStore) Begin(ctx context.Context) (store.Batch, error) {
	b, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &remoteBatch{Batch: b, s: s}, nil
}

type remoteBatch struct {
	store.Batch
	s *remoteStore
}

func (b *remoteBatch) AddEach(ctx context.Context, lists [][]store.Item) ([]store.WriteResult, error) {
	if n := b.s.inFlight.Add(1); n > b.s.maxOver.Load() {
		b.s.maxOver.Store(n)
	}
	defer b.s.inFlight.Add(-1)
	time.Sleep(2 * time.Millisecond) // a round trip, during which the next chunk is parsed
	if n := b.s.adds.Add(1); int(n) == b.s.failAt {
		return nil, errors.New("the connection was lost")
	}
	return b.Batch.AddEach(ctx, lists)
}

// A store that writes each chunk while the next is parsed stores every
// record once, counts them all, never has two writes under way at once,
// and keeps nothing when a write fails after later chunks were parsed.
func TestChunksWrittenWhileTheNextIsParsed(t *testing.T) {
	const n = 20_000
	st := &remoteStore{Store: newStore(t)}
	sum := mustImport(t, st, Options{}, Source{Name: "big.ndjson", Reader: &lineReader{n: n, line: genDeployment}})
	if sum.Records != n || sum.Inserted != n || counts(t, st)[domain.KindDeployment] != n {
		t.Fatalf("records %d, inserted %d, stored %d; want %d", sum.Records, sum.Inserted, counts(t, st)[domain.KindDeployment], n)
	}
	if st.adds.Load() < 4 || st.maxOver.Load() != 1 {
		t.Fatalf("%d writes, up to %d at once: want several, one at a time", st.adds.Load(), st.maxOver.Load())
	}
	// Again, corrected: each record once more, replaced, counted as such.
	sum = mustImport(t, st, Options{}, Source{Name: "again.ndjson", Reader: &lineReader{n: n, line: func(buf []byte, i int) []byte {
		return bytes.Replace(genDeployment(buf, i), []byte(`"success"`), []byte(`"failure"`), 1)
	}}})
	if sum.Replaced != n || sum.Inserted != 0 {
		t.Fatalf("re-import: replaced %d, inserted %d; want %d and 0", sum.Replaced, sum.Inserted, n)
	}

	failing := &remoteStore{Store: newStore(t), failAt: 3}
	_, err := doImport(context.Background(), failing, []Source{{Name: "big.ndjson", Reader: &lineReader{n: n, line: genDeployment}}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "connection was lost") {
		t.Fatalf("a failed write: %v", err)
	}
	if got := counts(t, failing)[domain.KindDeployment]; got != 0 {
		t.Fatalf("%d records stored after a failed write, want none", got)
	}
}

// A dry run checks and counts what an import would do against the store as
// it is, and stores nothing: the same counts as the import after it, no
// sequence used, no ledger entry; an invalid line is refused as an import
// refuses it.
func TestDryRunStoresNothing(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	lines := nd(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2026-03-02T00:00:00Z","status":"success"}`)
	mustImport(t, st, Options{}, src("one.ndjson", nd(`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}`)))
	seq, err := st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dry := mustImport(t, st, Options{DryRun: true}, src("two.ndjson", lines))
	if dry.Inserted != 1 || dry.Unchanged != 1 {
		t.Errorf("dry run: %+v, want 1 inserted and 1 unchanged", dry.WriteResult)
	}
	if after, err := st.LastSeq(ctx); err != nil || after != seq {
		t.Fatalf("a dry run moved the store from %d to %d (%v)", seq, after, err)
	}
	if _, err := st.Get(ctx, domain.Key{Kind: domain.KindDeployment, Source: "import", ID: "d2"}); err == nil {
		t.Fatal("a dry run stored d2")
	}
	// Through a committer (the records API), whose small inputs would be
	// committed in a group, the same.
	viaAPI, err := NewCommitter(st).Import(ctx, []Source{src("two.ndjson", lines)}, Options{DryRun: true})
	if err != nil || viaAPI.Inserted != 1 || viaAPI.Unchanged != 1 {
		t.Errorf("a dry run through a committer: %+v (%v)", viaAPI, err)
	}
	if after, err := st.LastSeq(ctx); err != nil || after != seq {
		t.Fatalf("a dry run through a committer moved the store from %d to %d (%v)", seq, after, err)
	}
	real := mustImport(t, st, Options{}, src("two.ndjson", lines))
	if real.WriteResult.Inserted != dry.WriteResult.Inserted || real.Unchanged != dry.Unchanged {
		t.Errorf("the import after the dry run: %+v, the dry run said %+v", real.WriteResult, dry.WriteResult)
	}
	if _, err := Import(ctx, st, []Source{src("bad.ndjson", nd(`{"kind":"deployment","id":"d3"}`))}, Options{DryRun: true}); !errors.As(err, new(*InvalidError)) {
		t.Errorf("a dry run of an invalid line: %v", err)
	}
}
