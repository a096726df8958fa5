// Package plural words a count with its noun: "1 record", "3 records",
// never "1 records" or "record(s)"; and a list as a sentence does: "a, b
// and c".
package plural

import (
	"strconv"
	"strings"
)

// Count returns n and the noun, with an "s" added unless n is 1. The nouns
// Candor counts (record, line, problem, invalid record) all take a plain
// "s"; pass the plural form to Counts for one that does not.
func Count[N int | int64](n N, noun string) string {
	return Counts(n, noun, noun+"s")
}

// Counts is Count for a noun with an irregular plural.
func Counts[N int | int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(int64(n), 10) + " " + many
}

// And joins items as a sentence lists them: "a", "a and b", "a, b and c".
func And(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
