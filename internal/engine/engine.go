// Package engine keeps the metric Dataset in step with the store: it loads
// every record once, then follows the store's sequence numbers so each read
// sees data committed before it — by this process or by another instance
// sharing the database — at the cost of one cheap LastSeq query.
package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// Engine owns a Dataset that mirrors a store.
type Engine struct {
	st store.Store

	mu  sync.RWMutex // guards ds
	ds  *metrics.Dataset
	seq int64 // highest seq applied
	// partial is set while ds holds a failed load's part of the new rows
	// (guarded by mu): a reader that refreshed before that load must not
	// read it.
	partial bool

	refresh sync.Mutex // one refresh at a time
	// MinInterval lets heavy read traffic share one LastSeq query; zero
	// checks on every read.
	MinInterval time.Duration
	checked     time.Time
	// loaded is set by the first successful refresh (Loaded).
	loaded atomic.Bool
}

// Loaded reports whether a refresh has succeeded, so the dataset reflects
// the store: a server is ready (/readyz) once it has.
func (e *Engine) Loaded() bool { return e.loaded.Load() }

// New returns an engine; nothing is loaded until the first read.
func New(st store.Store, cfg metrics.Config) *Engine {
	return &Engine{st: st, ds: metrics.NewDataset(cfg)}
}

// Seq returns the store sequence the dataset reflects.
func (e *Engine) Seq() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.seq
}

// seqLocked is Seq for callers that hold the refresh lock, which is the
// only writer of seq.
func (e *Engine) seqLocked() int64 { return e.seq }

// Refresh applies records committed since the last refresh.
func (e *Engine) Refresh(ctx context.Context) error {
	e.refresh.Lock()
	defer e.refresh.Unlock()
	if e.MinInterval > 0 && time.Since(e.checked) < e.MinInterval {
		return nil
	}
	now := time.Now()
	last, err := e.st.LastSeq(ctx)
	if err != nil {
		return err
	}
	if last > e.seqLocked() {
		if err := e.load(ctx); err != nil {
			// A failed load may have applied part of a batch: the next
			// read must retry it, not serve that state for MinInterval.
			e.checked = time.Time{}
			return err
		}
	}
	e.checked = now
	e.loaded.Store(true)
	return nil
}

type decoded struct {
	rec      domain.Record
	ingested time.Time
	err      error
}

// load scans new rows and decodes them on every core while one goroutine
// applies them. It holds the write lock for the whole apply: indexes are
// only ordered again by Prepare, and a reader must never see them half
// done. Readers wait for a refresh anyway.
func (e *Engine) load(ctx context.Context) error {
	const chunk = 4096
	rows := make(chan []store.Stored, 4)
	out := make(chan []decoded, 4)
	workers := max(1, runtime.GOMAXPROCS(0))
	var scanErr error
	var last int64
	from := e.seqLocked()
	go func() {
		defer close(rows)
		buf := make([]store.Stored, 0, chunk)
		last, scanErr = e.st.Scan(ctx, from, func(r store.Stored) error {
			buf = append(buf, r)
			if len(buf) == chunk {
				rows <- buf
				buf = make([]store.Stored, 0, chunk)
			}
			return nil
		})
		if len(buf) > 0 {
			rows <- buf
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range rows {
				dec := make([]decoded, len(batch))
				for i, r := range batch {
					dec[i] = decodeStored(r)
				}
				out <- dec
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	var firstErr error
	e.mu.Lock()
	defer e.mu.Unlock()
	for dec := range out {
		for _, d := range dec {
			if d.err != nil {
				if firstErr == nil {
					firstErr = d.err
				}
				continue
			}
			e.ds.Apply(d.rec, d.ingested)
		}
	}
	// Order the indexes even after an error: what was applied is real data.
	e.ds.Prepare()
	e.partial = scanErr != nil || firstErr != nil
	if scanErr != nil {
		return scanErr
	}
	if firstErr != nil {
		return firstErr
	}
	e.seq = max(e.seq, last)
	return nil
}

func decodeStored(r store.Stored) decoded {
	rec := domain.New(r.Key.Kind)
	if rec == nil {
		return decoded{err: fmt.Errorf("store holds a record of unknown kind %q (%s)", r.Key.Kind, r.Key)}
	}
	if err := json.Unmarshal(r.Body, rec); err != nil {
		return decoded{err: fmt.Errorf("stored record %s is corrupt: %w", r.Key, err)}
	}
	rec.Header().Source = r.Key.Source
	return decoded{rec: rec, ingested: r.IngestedAt}
}

// Read refreshes and then calls fn with the dataset under a read lock. fn
// must not keep the dataset or anything in it after returning.
func (e *Engine) Read(ctx context.Context, fn func(ds *metrics.Dataset) error) error {
	for {
		if err := e.Refresh(ctx); err != nil {
			return fmt.Errorf("refreshing from the store: %w", err)
		}
		e.mu.RLock()
		if !e.partial {
			defer e.mu.RUnlock()
			return fn(e.ds)
		}
		// Another reader's load failed half-way after our refresh: refresh
		// again (retrying the load, or failing with its error) rather than
		// read half a batch.
		e.mu.RUnlock()
	}
}
