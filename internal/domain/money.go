package domain

import (
	"fmt"
	"math/big"
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

// ParseMoney reads a decimal number exactly. It refuses more than six
// decimals rather than rounding silently.
func ParseMoney(s string) (Money, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	r.Mul(r, big.NewRat(MoneyScale, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q has more than 6 decimal places", s)
	}
	n := r.Num()
	if !n.IsInt64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return Money(n.Int64()), nil
}

// Float converts to currency units for ratios and display; sums should
// stay in Money.
func (m Money) Float() float64 { return float64(m) / MoneyScale }

func (m Money) String() string {
	neg := m < 0
	v := int64(m)
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v/MoneyScale, 10)
	frac := v % MoneyScale
	if frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}

func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

func (m *Money) UnmarshalJSON(b []byte) error {
	v, err := ParseMoney(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Date is a calendar date (YYYY-MM-DD), held as midnight UTC so it compares
// with timestamps as a UTC calendar date (SPEC §1 close_date).
type Date struct{ time.Time }

func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return Date{t}, nil
}

func (d Date) String() string { return d.Format(time.DateOnly) }

func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

func (d *Date) UnmarshalJSON(b []byte) error {
	v, err := ParseDate(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
