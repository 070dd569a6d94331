package coco_test

import (
	"testing"
	"time"

	"github.com/coco-llm/coco"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"-3", 0},
		{"soon", 0},
		{"Fri, 04 Dec 2026 12:00:30 GMT", 30 * time.Second},
		{"Fri, 04 Dec 2026 11:00:00 GMT", 0}, // in the past
		{"1e9", 0},                           // absurd
		{"Fri, 01 Dec 2070 00:00:00 GMT", 0}, // decades away: absurd too
	} {
		if got := coco.ParseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("coco.ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "1.5", "Fri, 04 Dec 2026 12:00:30 GMT", "NaN", "+Inf", "-0"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := coco.ParseRetryAfter(s, now); d < 0 || d > 1e6*time.Second {
			t.Fatalf("coco.ParseRetryAfter(%q) = %v", s, d)
		}
	})
}
