package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// The anchors-only mode exists for scale 30: the full benchmark holds
// every kind in memory (~9 GiB at scale 10), but the three anchor metrics
// need only services, deployments, changes and incidents, about two
// thirds of the records and less of the memory. It generates the same
// organisation, keeps those kinds, imports them, loads the engine and
// runs the anchor comparison; nothing else is measured.

// anchorKinds are the kinds the anchor metrics read (incidents for
// Candor's change failure rate, services for its dimensions).
var anchorKinds = []string{"service", "deployment", "change", "incident"}

// ModeAnchorsOnly is Report.Mode for an anchors-only run.
const ModeAnchorsOnly = "anchors-only"

func runAnchorsOnly(ctx context.Context, opt Options) (*Report, error) {
	rep := &Report{Backend: opt.Backend, Scale: opt.Scale, GOMAXPROCS: runtime.GOMAXPROCS(0), AsOf: End.Format(time.RFC3339), Mode: ModeAnchorsOnly}
	st, err := generateAndImport(ctx, &opt, rep, anchorKinds)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	settle()
	eng := engine.New(st, metrics.DefaultConfig())
	opt.logf("loading the engine …")
	t0 := time.Now()
	if err := eng.Refresh(ctx); err != nil {
		return nil, err
	}
	rep.LoadMs = ms(time.Since(t0))
	if err := runAnchors(ctx, &opt, rep, eng); err != nil {
		return nil, err
	}
	rep.PeakRSSMB = peakRSS()
	return rep, nil
}

// kindFilter passes on the NDJSON lines whose kind is in a set. It relies
// on the generator writing "kind" first on every line.
type kindFilter struct {
	w        io.Writer
	prefixes [][]byte
	partial  []byte
	kept     int64
}

func newKindFilter(w io.Writer, kinds []string) *kindFilter {
	k := &kindFilter{w: w}
	for _, kind := range kinds {
		k.prefixes = append(k.prefixes, []byte(`{"kind":"`+kind+`"`))
	}
	return k
}

func (k *kindFilter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			k.partial = append(k.partial, p...)
			break
		}
		line := p[:i+1]
		if len(k.partial) > 0 {
			k.partial = append(k.partial, line...)
			line = k.partial
		}
		if err := k.line(line); err != nil {
			return 0, err
		}
		k.partial = k.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (k *kindFilter) line(line []byte) error {
	for _, pre := range k.prefixes {
		if bytes.HasPrefix(line, pre) {
			k.kept++
			_, err := k.w.Write(line)
			return err
		}
	}
	return nil
}

// Close passes on a last line without a newline.
func (k *kindFilter) Close() error {
	if len(k.partial) == 0 {
		return nil
	}
	err := k.line(k.partial)
	k.partial = nil
	return err
}

// profileTime is how long each profiled metric is computed over and over:
// one computation takes milliseconds, far too few samples at 100 Hz.
// Tests shorten it.
var profileTime = 5 * time.Second

// profileAnchors writes CPU profiles of Candor's computation of each
// anchor metric (PREFIX.candor.ID.pprof), repeated at as_ofs no cache has
// seen, and on SQLite, whose engine runs in this process, of one run of
// each SQL query (PREFIX.sql.ID.pprof).
func profileAnchors(ctx context.Context, opt *Options, db *sql.DB, d *AnchorDialect, ds *metrics.Dataset, window time.Duration) error {
	for _, id := range AnchorMetrics {
		path := fmt.Sprintf("%s.candor.%s.pprof", opt.AnchorProfile, id)
		opt.logf("profiling Candor's %s → %s …", id, path)
		n := 0
		err := withProfile(path, func() error {
			start := time.Now()
			// Hours before the comparison's as_ofs, distinct per iteration.
			for ; time.Since(start) < profileTime; n++ {
				at := End.Add(-time.Hour - time.Duration(n)*time.Second)
				if _, err := ds.Compute(id, metrics.Query{AsOf: at, Window: window}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		opt.logf("  %d computations", n)
	}
	if d != SQLiteAnchor {
		return nil
	}
	for _, id := range AnchorMetrics {
		path := fmt.Sprintf("%s.sql.%s.pprof", opt.AnchorProfile, id)
		opt.logf("profiling the SQLite query of %s → %s …", id, path)
		err := withProfile(path, func() error {
			args := d.args(End.Add(-window), End)
			rows, err := db.QueryContext(ctx, d.queries[id], args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func withProfile(path string, fn func() error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	err = fn()
	pprof.StopCPUProfile()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
