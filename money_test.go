package coco_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want coco.Money
	}{
		{"0", 0},
		{"1", coco.Dollar},
		{"$1.25", coco.Dollar + 25*coco.Cent},
		{"-0.5", -coco.Dollar / 2},
		{"-$3", -3 * coco.Dollar},
		{"5.46875e-07", 546_875},
		{"3e-05", 30 * coco.Microdollar},
		{"1E-12", 1},
		{"4e-13", 0},   // below half a picodollar
		{"5e-13", 1},   // half rounds away from zero
		{"-5e-13", -1}, // on both sides
		{" 2.50 ", 2*coco.Dollar + 50*coco.Cent},
		{"9223372.036854775807", math.MaxInt64},
	} {
		got, err := coco.ParseMoney(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseMoneyErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "$", "abc", "1/3", "NaN", "Inf", "--1", "1-2", "$-1", "1..2", "0x1p-2", "1e-999999999", "1e", ".", "1e+", strings.Repeat("1", 65)} {
		_, err := coco.ParseMoney(in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), "coco: ", in)
	}
	_, err := coco.ParseMoney("1e10")
	assert.True(t, errors.Is(err, coco.ErrOverflow), "ten billion dollars is out of range: %v", err)
}

func TestMoneyString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    coco.Money
		want string
	}{
		{0, "$0.00"},
		{coco.Dollar, "$1.00"},
		{12*coco.Dollar + 50*coco.Cent, "$12.50"},
		{546_875, "$0.000000546875"},
		{coco.Dollars(0.000546875), "$0.000546875"},
		{-3 * coco.Dollar, "-$3.00"},
		{1, "$0.000000000001"},
		{math.MinInt64, "-$9223372.036854775808"},
		{math.MaxInt64, "$9223372.036854775807"},
	} {
		assert.Equal(t, tc.want, tc.m.String())
	}
}

func TestDollars(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 20*coco.Dollar, coco.Dollars(20))
	assert.Equal(t, 10*coco.Cent, coco.Dollars(0.1))
	assert.Equal(t, coco.Money(0), coco.Dollars(math.NaN()))
	assert.Equal(t, coco.Money(math.MaxInt64), coco.Dollars(1e300))
	assert.Equal(t, coco.Money(math.MinInt64), coco.Dollars(-1e300))
	assert.InDelta(t, 0.1, coco.Dollars(0.1).Float(), 1e-15)
}

func TestMoneySumIsExact(t *testing.T) {
	t.Parallel()
	// A million calls at a tenth of a cent: float64 dollars drift, Money does not.
	var m coco.Money
	var f float64
	for range 1_000_000 {
		m += coco.Dollars(0.001)
		f += 0.001
	}
	assert.Equal(t, 1000*coco.Dollar, m)
	assert.NotEqual(t, 1000.0, f, "float64 accumulates error; this is why Money is an integer")
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "$1.25", "-0.5", "5.46875e-07", "1e400", "0x1p-2", "1/3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := coco.ParseMoney(s)
		if err != nil {
			return
		}
		// What parses prints and parses back to the same amount.
		back, err := coco.ParseMoney(m.String())
		if err != nil {
			t.Fatalf("%q parsed to %d, whose String %q does not parse: %v", s, m, m.String(), err)
		}
		if back != m {
			t.Fatalf("%q: %d -> %q -> %d", s, m, m.String(), back)
		}
	})
}
