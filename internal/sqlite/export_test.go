package sqlite

// SetDSNMore adds parameters to every connection a store opens from now
// on (mode=ro: a store its account may not write), until restore is called.
func SetDSNMore(more string) (restore func()) {
	old := dsnMore
	dsnMore = more
	return func() { dsnMore = old }
}
