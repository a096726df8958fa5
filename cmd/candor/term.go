package main

import "os"

// isTerminal reports whether f is a character device (a terminal), which
// decides colours and progress bars.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}
