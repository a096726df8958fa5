package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/schedule"
	"github.com/candor/candor/internal/store"
)

// The demo's documents saying its records are being stored and were all
// stored (demoStarted, demoStored under demoCollection): a demo stopped
// while it stored its year day by day keeps the days stored, and served
// again it would have shown part of an organisation as the whole.
const (
	demoCollection = "demo"
	demoStarted    = "storing"
	demoStored     = "stored"
)

// demoDay is the records of one day of the demo's history: their lines in
// the generated file and the newest time any of them holds.
type demoDay struct {
	day    int64 // the UTC day (unix days); undated records are in the first
	newest time.Time
	lines  [][2]int64 // offset and length
}

// storeDemoHistory generates the demo organisation and stores it day by
// day (demoDays), each day's records at the newest event they hold (never
// after now),
// through a store whose clock can be set: the records' ingestion times
// and the ledger's entries then span the year as a server receiving the
// records as they happened would have them, so an evidence pack of a
// quarter that has ended verifies the ledger up to its end and counts no
// record as stored late. A record dated after now (a quota period still
// running, a deal closing next month) is stored now. With every > 0, snap
// takes the KPI snapshot of each slot of that length the history passes,
// under the clock at the slot's start, after the records before it: the
// server takes one a slot from its start on, and a quarter's pack lists
// those chained in it. It returns the records stored.
func storeDemoHistory(ctx context.Context, st store.Store, clock store.Clocked, dir string, opt generate.Options, parse domain.ParseOptions, by string, from, now time.Time,
	every time.Duration, snap func(slot time.Time) error) (int64, error) {
	f, err := os.CreateTemp(dir, "demo-*.ndjson")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	if _, err := generate.Write(bw, opt); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	days, err := demoDays(f, from, now)
	if err != nil {
		return 0, err
	}
	var stored int64
	var buf []byte
	var slot time.Time // the next snapshot's
	for i, d := range days {
		if every > 0 && i > 0 {
			dayStart := time.Unix(d.day*24*60*60, 0).UTC()
			if slot.IsZero() {
				slot = from.Truncate(every).Add(every)
			}
			for ; !slot.After(dayStart) && !slot.After(now); slot = slot.Add(every) {
				at := slot
				clock.SetClock(func() time.Time { return at })
				if err := snap(at); err != nil {
					return stored, fmt.Errorf("the demo's KPI snapshot of %s: %w", at.Format(time.DateOnly), err)
				}
			}
		}
		buf = buf[:0]
		for _, l := range d.lines {
			buf = slices.Grow(buf, int(l[1])+1)
			line := buf[len(buf) : len(buf)+int(l[1])]
			if _, err := f.ReadAt(line, l[0]); err != nil {
				return stored, fmt.Errorf("reading %s: %w", f.Name(), err)
			}
			buf = append(buf[:len(buf)+int(l[1])], '\n')
		}
		at := d.newest
		clock.SetClock(func() time.Time { return at })
		sum, err := ingest.Import(ctx, st, []ingest.Source{{Name: "demo.ndjson", Reader: bytes.NewReader(buf), Format: "ndjson"}},
			ingest.Options{Parse: parse, Now: at, By: by})
		if err != nil {
			return stored, fmt.Errorf("storing the demo's records of %s: %w", at.Format(time.DateOnly), err)
		}
		stored += sum.Records
	}
	return stored, nil
}

// demoDeadlines are the fields that name a time ahead rather than an
// event: a record is sent when its newest event happens, not on the day
// of a deadline it names (a ticket resolved on 29 September with its SLA
// due on 2 October had been stored on 2 October), and a period's records
// (quota, budget, target, cost) when it begins.
var demoDeadlines = map[string]bool{"sla_due_at": true, "postmortem_due_at": true, "close_date": true, "period_end": true}

// demoHistoryStart is when the demo's history begins: the first day of the
// generated span. Its store's ledger begins then, and the records dated
// before (customers' first subscriptions, deals worked before the year)
// are stored then, as an organisation's first import of its past is.
func demoHistoryStart(opt generate.Options) time.Time {
	days := opt.Days
	if days <= 0 {
		days = 365 // generate.Write's default
	}
	return opt.End.AddDate(0, 0, -days).Truncate(24 * time.Hour)
}

// demoDays reads the generated records in r and groups them by the UTC
// day of the newest time each holds but its deadlines (demoDeadlines),
// oldest day first; records holding no time or none after from are a
// first group stored at from, records dated after now a last group stored
// at now.
func demoDays(r io.ReaderAt, from, now time.Time) ([]demoDay, error) {
	const nsDay = int64(24 * time.Hour)
	byDay := map[int64]*demoDay{}
	var undated [][2]int64 // stored at from
	sc := bufio.NewScanner(io.NewSectionReader(r, 0, 1<<62))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var off int64
	last := now.UnixNano() / nsDay
	for sc.Scan() {
		line := sc.Bytes()
		span := [2]int64{off, int64(len(line))}
		off += int64(len(line)) + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		t, ok := domain.NewestTimeExcept(line, demoDeadlines)
		if !ok || !t.After(from) {
			undated = append(undated, span)
			continue
		}
		day := t.UnixNano() / nsDay
		if t.After(now) {
			t, day = now, last+1
		}
		d := byDay[day]
		if d == nil {
			d = &demoDay{day: day, newest: t}
			byDay[day] = d
		}
		if t.After(d.newest) {
			d.newest = t
		}
		d.lines = append(d.lines, span)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	days := make([]demoDay, 0, len(byDay)+1)
	for _, d := range byDay {
		days = append(days, *d)
	}
	slices.SortFunc(days, func(a, b demoDay) int { return int(a.day - b.day) })
	if len(undated) > 0 {
		days = append([]demoDay{{day: from.UnixNano() / nsDay, newest: from, lines: undated}}, days...)
	}
	return days, nil
}

// demoIncomplete says whether the demo's store in dir was stopped while its
// records were being stored (started, not stored).
func demoIncomplete(ctx context.Context, st store.DocStore) (bool, error) {
	_, started, err := st.DocByKey(ctx, demoCollection, demoStarted)
	if err != nil || !started {
		return false, err
	}
	_, stored, err := st.DocByKey(ctx, demoCollection, demoStored)
	return !stored, err
}

// markDemo appends the demo's document under key.
func markDemo(ctx context.Context, st store.DocStore, key string, body string) error {
	_, _, err := st.AppendDocOnce(ctx, demoCollection, key, []byte(body))
	if err != nil {
		return fmt.Errorf("marking the demo store: %w", err)
	}
	return nil
}

// importDemo generates the demo organisation into the app's store: day by
// day through a store whose clock can be set (storeDemoHistory), else in
// one import as it is generated. It marks the store before and after, so
// a demo stopped in between is not served as whole (demoIncomplete).
func importDemo(ctx context.Context, a *app, dir string, opt generate.Options, from time.Time) (records int64, seconds float64, err error) {
	start := time.Now()
	if err := markDemo(ctx, a.store, demoStarted, fmt.Sprintf(`{"scale":%g,"seed":%d}`, opt.Scale, opt.Seed)); err != nil {
		return 0, 0, err
	}
	by := auth.CLIActor("demo").Name
	if clock, ok := a.store.(store.Clocked); ok {
		every, _ := a.cfg.SnapshotEvery() // validated by config.Load
		s := &schedule.Snapshots{Docs: a.store, Engine: a.engine, Catalog: a.catalog, Interval: every}
		snap := func(slot time.Time) error {
			_, err := s.RunOnce(ctx, slot)
			return err
		}
		records, err = storeDemoHistory(ctx, a.store, clock, dir, opt, a.parseOptions(), by, from, start, every, snap)
		clock.SetClock(nil)
	} else {
		records, err = importDemoStream(ctx, a.store, opt, a.parseOptions(), by)
	}
	if err != nil {
		return records, 0, err
	}
	if err := markDemo(ctx, a.store, demoStored, fmt.Sprintf(`{"records":%d}`, records)); err != nil {
		return records, 0, err
	}
	return records, time.Since(start).Seconds(), nil
}

// importDemoStream imports the generated organisation as it is generated,
// in one import.
func importDemoStream(ctx context.Context, st store.Store, opt generate.Options, parse domain.ParseOptions, by string) (int64, error) {
	pr, pw := io.Pipe()
	// If the import stops early (Ctrl-C, a bad record), closing the reading
	// end makes the generator's next write fail, so it does not block on the
	// pipe for ever.
	defer pr.Close()
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<20)
		_, err := generate.Write(bw, opt)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	sum, err := ingest.Import(ctx, st, []ingest.Source{{Name: "demo.ndjson", Reader: pr, Format: "ndjson"}}, ingest.Options{Parse: parse, By: by})
	if err != nil {
		return 0, err
	}
	return sum.Records, nil
}
