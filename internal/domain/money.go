package domain

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Money is an amount in millionths of a currency unit. Integer units keep
// sums of millions of amounts exact (no float drift in ARR), while six
// decimals are enough for normalised monthly prices (an annual price ÷ 12).
type Money int64

// MoneyScale is the number of Money units in one currency unit.
const MoneyScale = 1_000_000

// moneyDecimals is log10(MoneyScale).
const moneyDecimals = 6

// maxMoney is the largest magnitude ParseMoney accepts; the range is
// symmetric so that negating a Money never overflows.
const maxMoney = 1<<63 - 1

// ParseMoney reads a decimal number exactly: an optional sign, digits with
// an optional decimal point, and an optional exponent ("1e3", "2.5E-2").
// It refuses more than six decimals rather than rounding silently, and
// refuses fractions, hexadecimal, Inf and NaN.
func ParseMoney(s string) (Money, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	bad := func() (Money, error) { return 0, fmt.Errorf("%q is not a decimal number", s) }
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	// Mantissa: the digits without the point; frac counts those after it.
	var digits []byte
	frac, nd := 0, 0
	point := false
mantissa:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			nd++
			if len(digits) > 0 || c != '0' {
				digits = append(digits, c)
			}
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			break mantissa
		}
	}
	if nd == 0 {
		return bad()
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return bad()
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return bad()
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return bad()
			}
			if exp < 1_000_000 { // saturate: far beyond any representable amount
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if len(digits) == 0 {
		return 0, nil // zero, whatever the exponent
	}
	// The value is digits × 10^shift in millionths. Trailing zeros of the
	// mantissa can absorb a negative shift; anything left is a 7th decimal.
	shift := exp - frac + moneyDecimals
	for shift < 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		shift++
	}
	if shift < 0 {
		return 0, fmt.Errorf("%q has more than 6 decimal places", s)
	}
	if len(digits)+shift > 19 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	u, err := strconv.ParseUint(string(digits)+strings.Repeat("0", shift), 10, 64)
	if err != nil || u > maxMoney {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if neg {
		return Money(-int64(u)), nil
	}
	return Money(u), nil
}

// Float converts to currency units for ratios and display; sums should
// stay in Money.
func (m Money) Float() float64 { return float64(m) / MoneyScale }

// String formats the amount exactly, with no trailing zeros ("12.5",
// "-0.000001", "3"); ParseMoney reads it back to the same value.
func (m Money) String() string {
	v := uint64(m)
	neg := m < 0
	if neg {
		v = -v // two's complement: exact even for the most negative value
	}
	s := strconv.FormatUint(v/MoneyScale, 10)
	if frac := v % MoneyScale; frac != 0 {
		f := strconv.FormatUint(frac+MoneyScale, 10)[1:] // zero-padded to 6
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON writes the amount as a bare JSON number, exactly.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON reads a JSON number or a quoted decimal; null leaves the
// value unchanged, as encoding/json does for built-in types.
func (m *Money) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Date is a calendar date (YYYY-MM-DD), held as midnight UTC so it compares
// with timestamps as a UTC calendar date (SPEC §1 close_date).
type Date struct{ time.Time }

// ParseDate reads a YYYY-MM-DD date.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

func (d Date) String() string { return d.Format(time.DateOnly) }

func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD"; null and "" leave the date unchanged
// (absent), matching how the parser treats them.
func (d *Date) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" || string(b) == `""` {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("%s is not a date string YYYY-MM-DD", b)
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
