package coco

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Money is an exact amount of US dollars, counted in picodollars (10^-12 USD).
//
// That resolution makes every per-token price in use exact (LiteLLM's
// 5.46875e-07 USD a token is 546,875 picodollars), so a sum of costs is exact
// however many calls it adds up: no float64 ever accumulates. The range is about
// ±9.2 million dollars; the Meter reports ErrOverflow rather than wrap.
//
// The zero value is $0. Money is compared and added with the ordinary operators.
type Money int64

// Units of Money.
const (
	Picodollar  Money = 1
	Nanodollar  Money = 1_000
	Microdollar Money = 1_000_000
	Cent        Money = 10_000_000_000
	Dollar      Money = 1_000_000_000_000
)

// Dollars returns d dollars, rounded to the nearest picodollar. It is meant for
// constants such as budgets (Dollars(20)); for prices read from text use
// ParseMoney, which is exact. Values outside the range of Money saturate and
// NaN is $0.
func Dollars(d float64) Money {
	p := math.Round(d * float64(Dollar))
	switch {
	case math.IsNaN(p):
		return 0
	case p >= math.MaxInt64:
		return math.MaxInt64
	case p <= math.MinInt64:
		return math.MinInt64
	}
	return Money(p)
}

// ParseMoney parses an amount of dollars written in decimal, with an optional
// sign, "$" and exponent: "$1.25", "-0.5", "5.46875e-07". Digits finer than a
// picodollar are rounded to the nearest one (half away from zero).
func ParseMoney(s string) (Money, error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	if neg {
		t = t[1:]
	}
	t = strings.TrimPrefix(t, "$")
	if err := checkDecimal(t); err != nil {
		return 0, fmt.Errorf("coco: %q is not an amount of money: %w", s, err)
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return 0, fmt.Errorf("coco: %q is not an amount of money", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(Dollar)))
	// Round half away from zero: (2|num| + den) / 2den, truncated.
	num := new(big.Int).Abs(r.Num())
	num.Lsh(num, 1).Add(num, r.Denom())
	q := num.Quo(num, new(big.Int).Lsh(r.Denom(), 1))
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("coco: %q: %w", s, ErrOverflow)
	}
	return Money(q.Int64()), nil
}

// maxDecimalLen and maxExponent bound what ParseMoney accepts, so that text
// such as "1e-999999999" cannot make it build a number of a billion digits.
const maxDecimalLen, maxExponent = 64, 64

// checkDecimal accepts plain decimal numbers: digits with at most one point,
// and an optional exponent of at most maxExponent either way.
func checkDecimal(t string) error {
	if t == "" || len(t) > maxDecimalLen {
		return fmt.Errorf("empty or longer than %d characters", maxDecimalLen)
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(t), "e")
	digits, points := 0, 0
	for _, c := range mant {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return fmt.Errorf("unexpected %q", c)
		}
	}
	if digits == 0 || points > 1 {
		return fmt.Errorf("malformed number")
	}
	if hasExp {
		e, err := strconv.Atoi(exp)
		if err != nil || e > maxExponent || e < -maxExponent {
			return fmt.Errorf("exponent out of range")
		}
	}
	return nil
}

// String prints m in dollars with every significant digit and at least two
// decimals: "$12.50", "$0.000546875", "-$3.00".
func (m Money) String() string {
	var b strings.Builder
	u := uint64(m)
	if m < 0 {
		b.WriteByte('-')
		u = uint64(-(m + 1)) + 1 // safe for math.MinInt64
	}
	b.WriteByte('$')
	b.WriteString(strconv.FormatUint(u/uint64(Dollar), 10))
	frac := fmt.Sprintf("%012d", u%uint64(Dollar))
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	b.WriteByte('.')
	b.WriteString(frac)
	return b.String()
}

// Float returns m in dollars as a float64, for display and plotting only.
func (m Money) Float() float64 { return float64(m) / float64(Dollar) }

// addMoney returns a+b, or ErrOverflow.
func addMoney(a, b Money) (Money, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, ErrOverflow
	}
	return s, nil
}

// mulTokens returns price*tokens for a non-negative price and token count, or
// ErrOverflow.
func mulTokens(price Money, tokens int) (Money, error) {
	if price < 0 || tokens < 0 {
		return 0, fmt.Errorf("coco: negative price or token count")
	}
	hi, lo := bits.Mul64(uint64(price), uint64(tokens))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return Money(lo), nil
}
