package metrics

import "time"

// Value-changing settings are governed (SPEC §5): a change takes effect at
// its approval, and a value as of an earlier time is computed under the
// settings in force then. The settings shape a dataset (which deployments
// are production, the memos, the cache), so each set of settings in force
// over the history has a dataset of its own, kept in step with the store
// by the engine; SetEpochs tells every one of them how to find the others.

// SetEpochs installs f: At(t) then returns f(t), the dataset computing
// under the settings in force at t (nil from f means this one). Call it
// while no reader holds the dataset (the engine's write lock).
func (d *Dataset) SetEpochs(f func(time.Time) *Dataset) { d.epochs = f }

// At returns the dataset computing under the settings in force at t: d
// itself unless the settings changed over the history (SetEpochs). The
// zero time is the beginning of time, under the first settings ever in
// force (as Engine.ConfigAt): a caller meaning "now" passes now.
func (d *Dataset) At(t time.Time) *Dataset {
	if d.epochs == nil {
		return d
	}
	if o := d.epochs(t); o != nil {
		return o
	}
	return d
}
