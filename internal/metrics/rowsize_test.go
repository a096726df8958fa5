package metrics

import (
	"maps"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/candor/candor/internal/domain"
)

// The dataset's bytes a record (BenchmarkDatasetMemory, goal ≤ 130 at
// scale 10) rest on these sizes; a field added to a row shows here first.
func TestRowSizes(t *testing.T) {
	for name, c := range map[string]struct{ got, want uintptr }{
		"chgRow (a change)":    {unsafe.Sizeof(chgRow{}), 36},
		"Dep (a deployment)":   {unsafe.Sizeof(Dep{}), 80},
		"ticketRow (a ticket)": {unsafe.Sizeof(ticketRow{}), 72},
		// package in what had been padding, kev a bit of its code
		"vulnRow (a vulnerability)":                                                {unsafe.Sizeof(vulnRow{}), 48},
		"depRow (a production deployment in the walk order)":                       {unsafe.Sizeof(depRow{}), 24},
		"leadMemo (a deployment's lead-time memo, held by each one a reader took)": {unsafe.Sizeof(leadMemo{}), 48},
	} {
		if c.got != c.want {
			t.Errorf("%s is %d bytes, want %d", name, c.got, c.want)
		}
	}
}

func TestSecsHoldOnlyWholeSecondsInRange(t *testing.T) {
	for _, c := range []struct {
		ns int64
		ok bool
	}{
		{0, true}, {1e9, true}, {1795000000e9, true}, {(1<<32 - 2) * 1e9, true},
		{(1<<32 - 1) * 1e9, false}, // secsExact itself
		{1 << 62, false}, {-1e9, false}, {1, false}, {1795000000123456789, false}, {1795000000e9 + 1e6, false},
	} {
		s, ok := secsOf(c.ns)
		if ok != c.ok || ok && s.ns() != c.ns {
			t.Errorf("secsOf(%d) = %d, %v; want ok %v and the time back", c.ns, s, ok, c.ok)
		}
	}
}

func TestChangeNamesakeFlagKeepsTheSource(t *testing.T) {
	c := chgRow{src: 12345}
	c.setFollows(true)
	if !c.follows() || c.srcCode() != 12345 {
		t.Fatalf("after setFollows(true): follows %v, source %d", c.follows(), c.srcCode())
	}
	c.setFollows(false)
	if c.follows() || c.srcCode() != 12345 {
		t.Fatalf("after setFollows(false): follows %v, source %d", c.follows(), c.srcCode())
	}
}

func TestTicketEscalatedFlagKeepsTheSegment(t *testing.T) {
	d := NewDataset(DefaultConfig())
	for _, esc := range []bool{false, true} {
		r := convTicket(d, &domain.Ticket{Meta: domain.Meta{ID: "t-1", Source: "zendesk"}, Segment: "enterprise", Escalated: esc})
		if r.escalated() != esc || d.str(r.segment()) != "enterprise" {
			t.Errorf("escalated %v: row says escalated %v, segment %q", esc, r.escalated(), d.str(r.segment()))
		}
	}
}

func TestVulnKEVFlagKeepsThePackage(t *testing.T) {
	d := NewDataset(DefaultConfig())
	for _, kev := range []bool{false, true} {
		for _, pkg := range []string{"openssl", ""} {
			r := convVuln(d, &domain.Vulnerability{Meta: domain.Meta{ID: "v-1", Source: "grype"}, Severity: "critical", Package: pkg, KEV: kev})
			if r.kev() != kev || d.str(r.pkgCode()) != pkg {
				t.Errorf("kev %v, package %q: row says kev %v, package %q", kev, pkg, r.kev(), d.str(r.pkgCode()))
			}
		}
	}
}

// A change's times go to the row as whole seconds where they can and are
// held exactly beside it where they cannot; a correction moves them
// between the two, and the exact times go with their row.
func TestChangeTimesExactBesideTheRow(t *testing.T) {
	d := NewDataset(DefaultConfig())
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	apply := func(merged, authored time.Time) {
		d.Apply(&domain.Change{Meta: domain.Meta{ID: "pr-1", Source: "git"}, Service: "api", MergedAt: merged, AuthoredAt: authored}, time.Time{})
	}
	check := func(what string, merged, authored time.Time, exact int) {
		t.Helper()
		i, ok := d.changeByID.get(uint64(d.strs.code("pr-1")))
		if !ok {
			t.Fatalf("%s: the change is not held", what)
		}
		c := d.chgView(i)
		if c.Merged != merged.UnixNano() || c.Authored != authored.UnixNano() || d.chgMerged(i) != merged.UnixNano() {
			t.Errorf("%s: merged %d authored %d, want %d and %d", what, c.Merged, c.Authored, merged.UnixNano(), authored.UnixNano())
		}
		if len(d.chgExact) != exact {
			t.Errorf("%s: %d changes held exactly, want %d", what, len(d.chgExact), exact)
		}
	}
	apply(at, at.Add(-time.Hour))
	check("whole seconds", at, at.Add(-time.Hour), 0)
	apply(at.Add(250*time.Millisecond), at.Add(-time.Hour))
	check("a fraction of a second", at.Add(250*time.Millisecond), at.Add(-time.Hour), 1)
	old := time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)
	apply(at, old)
	check("authored before 1970", at, old, 1)
	apply(at.Add(time.Second), at.Add(-time.Hour))
	check("corrected to whole seconds", at.Add(time.Second), at.Add(-time.Hour), 0)
}

// The exact times go to the state and back by row; an entry for a row
// that holds whole seconds, or for no row, is damage.
func TestChangeExactTimesPart(t *testing.T) {
	at := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	build := func() *Dataset {
		d := NewDataset(DefaultConfig())
		d.Apply(&domain.Change{Meta: domain.Meta{ID: "exact", Source: "git"}, Service: "api", MergedAt: at.Add(time.Millisecond), AuthoredAt: at}, time.Time{})
		d.Apply(&domain.Change{Meta: domain.Meta{ID: "whole", Source: "git"}, Service: "api", MergedAt: at, AuthoredAt: at}, time.Time{})
		return d
	}
	d := build()
	encode := func(m map[int32]chgTimes) []byte {
		var out []byte
		w := &stateWriter{emit: func(p []byte) error { out = append(out, p...); return nil }}
		writeChgExact(w, m)
		w.flush()
		return out
	}
	decode := func(p []byte) (map[int32]chgTimes, error) {
		got := build() // the same rows, the exact times read anew
		got.chgExact = nil
		r := &stateReader{pieces: [][]byte{p}, left: len(p), size: len(p)}
		readChgExact(r, got)
		return got.chgExact, r.err
	}
	if len(d.chgExact) != 1 {
		t.Fatalf("%d changes held exactly, want 1", len(d.chgExact))
	}
	got, err := decode(encode(d.chgExact))
	if err != nil || !maps.Equal(got, d.chgExact) {
		t.Errorf("read back %v (%v), want %v", got, err, d.chgExact)
	}
	for _, row := range []int32{1, 7} { // whole seconds; no such row
		bad := maps.Clone(d.chgExact)
		bad[row] = chgTimes{merged: 1}
		if _, err := decode(encode(bad)); err == nil || !strings.Contains(err.Error(), "which holds none") {
			t.Errorf("exact times for row %d: %v", row, err)
		}
	}
}
