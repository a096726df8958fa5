package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// Value-changing settings change only through approved proposals (SPEC §5),
// and a value as of a time is computed under the settings in force then.
// Settings shape a whole dataset (production deployments, memos, the
// result cache), so the engine keeps one dataset per distinct set of
// settings in force over the history, applies every row to each under the
// same lock, and lets each find the others by time (Dataset.At). Until a
// setting changes there is one dataset, as before; each distinct set adds
// a copy of the data in memory.

// Epoch is a span of the history under one set of settings: from From
// (zero: the start) until the next epoch's From.
type Epoch struct {
	From   time.Time
	Config metrics.Config
}

type epoch struct {
	from time.Time
	key  string
	ds   *metrics.Dataset
}

// configKey identifies a set of settings.
func configKey(c metrics.Config) string {
	b, err := json.Marshal(c)
	if err != nil {
		// Plain data throughout; a failure here is a defect.
		panic(fmt.Sprintf("engine: encoding settings: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SetEpochs makes the engine compute under the settings of each epoch
// (ordered by From; the first from the start, the last the settings in
// force now). A dataset it holds for the same settings is kept; a new one
// is loaded from the store up to the applied sequence before it is
// published, while reads go on with the old ones.
func (e *Engine) SetEpochs(ctx context.Context, epochs []Epoch) error {
	if len(epochs) == 0 {
		return errors.New("engine: SetEpochs without an epoch")
	}
	for i := 1; i < len(epochs); i++ {
		if epochs[i].From.Before(epochs[i-1].From) {
			return errors.New("engine: epochs out of order")
		}
	}
	e.refresh.Lock()
	defer e.releaseRefresh()
	cur := e.cur.Load()
	held := map[string]*metrics.Dataset{}
	if len(cur.epochs) == 0 {
		held[configKey(cur.ds.Config())] = cur.ds
	}
	for _, ep := range cur.epochs {
		held[ep.key] = ep.ds
	}
	next := make([]epoch, len(epochs))
	for i, ep := range epochs {
		// Keyed by the settings as a dataset holds them, defaults applied.
		cfg := ep.Config
		if e.custom != nil {
			cfg.UseCustom(*e.custom)
		}
		fresh := metrics.NewDataset(cfg)
		k := configKey(fresh.Config())
		ds := held[k]
		if ds == nil {
			ds = fresh
			if err := e.loadUpTo(ctx, ds); err != nil {
				return err
			}
			ds.SetSeq(e.seq)
			held[k] = ds
		}
		next[i] = epoch{from: ep.From, key: k, ds: ds}
	}
	// The second copy holds the old settings' datasets: it is dropped and
	// loaded again under the new ones (generations.go) — unless nothing
	// changed (governance puts the same epochs in force at every start).
	if !sameEpochs(cur, next) {
		e.dropSpare()
	}
	cur.mu.Lock()
	defer cur.mu.Unlock()
	if len(next) == 1 {
		cur.set(next[0].ds, nil)
	} else {
		cur.set(next[len(next)-1].ds, next)
	}
	// Said once the data computes under them, not before: a label read
	// between the two had named the new currency over the old one's values.
	in := make([]Epoch, len(next))
	for i, ep := range next {
		in[i] = Epoch{From: ep.from, Config: ep.ds.Config()}
	}
	e.settings.Store(&in)
	return nil
}

// sameEpochs reports whether w already computes under exactly these
// epochs, dataset for dataset.
func sameEpochs(w *world, next []epoch) bool {
	if len(next) == 1 {
		return len(w.epochs) == 0 && w.ds == next[0].ds
	}
	if len(w.epochs) != len(next) {
		return false
	}
	for i, ep := range next {
		if w.epochs[i].ds != ep.ds || !w.epochs[i].from.Equal(ep.from) {
			return false
		}
	}
	return true
}

// errEnough stops a scan at the applied sequence.
var errEnough = errors.New("enough")

// loadUpTo applies the store's rows up to the applied sequence to ds (the
// refresh lock held, so that sequence does not move).
func (e *Engine) loadUpTo(ctx context.Context, ds *metrics.Dataset) error {
	if e.seq == 0 {
		return nil
	}
	_, err := e.st.Scan(ctx, 0, func(r store.Stored) error {
		if r.Seq > e.seq {
			return errEnough
		}
		d := decodeStored(r)
		if d.err != nil {
			ds.Quarantine(d.key, d.seq, d.err.Error())
		} else {
			ds.Apply(d.rec, d.ingested)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return fmt.Errorf("loading the data under earlier settings: %w", err)
	}
	ds.Prepare()
	ds.Trim()
	return nil
}

// SetCustom puts another set of organisation-defined metrics in force in
// every dataset the engine holds, and in those it makes later for new
// settings (SetEpochs): an approved custom_metrics section, in a running
// server. The metrics are the same in every epoch — the one in force now
// computes every as_of — and their results cached under the set replaced
// are dropped (metrics.Dataset.SetCustom), so no read after SetCustom
// returns sees a number of the old definitions. The second copy of the
// data, if any, is dropped and loaded again under the new set.
func (e *Engine) SetCustom(set metrics.CustomSet) {
	e.refresh.Lock()
	defer e.releaseRefresh()
	e.custom = &set
	e.dropSpare()
	w := e.cur.Load()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ds := range w.datasets() {
		ds.SetCustom(set)
	}
}

// Config is the configuration the data is computed under now (the
// settings in force: the last epoch's), read without waiting for or
// loading the data: an import checks the currencies of the money it wrote
// against its exchange rates.
func (e *Engine) Config() metrics.Config { return e.cur.Load().ds.Config() }

// ConfigAt is the configuration data as of t is computed under: the
// settings in force at t (metrics.Dataset.At), read without waiting for or
// loading the data. Money is labelled by it: a value as of a time before
// an approved change of the currency is in the currency in force then.
func (e *Engine) ConfigAt(t time.Time) metrics.Config {
	in := *e.settings.Load()
	return in[inForceAt(len(in), func(i int) time.Time { return in[i].From }, t)].Config
}

// inForceAt is the index of the epoch in force at t among n epochs in
// order, the ith beginning at from(i) (the first at the start of time).
func inForceAt(n int, from func(int) time.Time, t time.Time) int {
	i := 0
	for j := 1; j < n && !from(j).After(t); j++ {
		i = j
	}
	return i
}
