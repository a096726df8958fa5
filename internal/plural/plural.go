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

// A returns noun after its indefinite article: "a plan", "an owner", "an
// environment", "a user". The article follows the sound of the noun's first
// letter as Candor's dimension and kind names are read: a vowel takes "an",
// except a "u" read "you" (unit, user, usage, utility) and "one"; an "h"
// takes "a" (hour and honest are not dimension names).
func A(noun string) string {
	return article(noun) + " " + noun
}

func article(noun string) string {
	w := strings.ToLower(noun)
	switch {
	case w == "":
		return "a"
	case strings.HasPrefix(w, "uni"), strings.HasPrefix(w, "us"), strings.HasPrefix(w, "uti"), strings.HasPrefix(w, "one"), strings.HasPrefix(w, "eu"):
		return "a"
	case strings.ContainsRune("aeiou", rune(w[0])):
		return "an"
	}
	return "a"
}
