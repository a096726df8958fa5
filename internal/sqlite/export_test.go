package sqlite

import "time"

// SetDSNMore adds parameters to every connection a store opens from now
// on (mode=ro: a store its account may not write), until restore is called.
func SetDSNMore(more string) (restore func()) {
	old := dsnMore
	dsnMore = more
	return func() { dsnMore = old }
}

// SetBusyTimeout sets how long a store opened from now on waits for
// another process's write lock, until restore is called.
func SetBusyTimeout(d time.Duration) (restore func()) {
	old := busyTimeout
	busyTimeout = d
	return func() { busyTimeout = old }
}
