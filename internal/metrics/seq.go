package metrics

import "sync/atomic"

// The store sequence a dataset reflects is set by its owner (the engine)
// each time it publishes the dataset. A reader asks the dataset, not the
// engine: with two copies of the data (engine generations) the engine may
// publish the other copy while this reader is still on this one, and a
// value cached by sequence must be keyed by what was read.
type seqStamp struct{ n atomic.Int64 }

// Seq returns the store sequence the dataset reflects: every row up to it
// and none after (0 for a dataset no engine owns).
func (d *Dataset) Seq() int64 { return d.seq.n.Load() }

// SetSeq records the store sequence the dataset reflects.
func (d *Dataset) SetSeq(n int64) { d.seq.n.Store(n) }
