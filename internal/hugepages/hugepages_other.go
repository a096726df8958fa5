//go:build !linux

package hugepages

// Back does nothing where there are no transparent huge pages to ask for.
func Back(n int) bool { return false }
