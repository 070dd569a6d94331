package coco_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

// chaosModel answers from memory but, at random (seeded per call), fails in
// the ways providers fail, bills failures, or stalls past the caller's
// deadline. It keeps nothing per call, so a load test's memory is Coco's own.
func chaosModel(name string, seed uint64, answers func(r *rand.Rand, k int) []string) coco.Model {
	var calls atomic.Uint64
	return coco.NamedModel(name, coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
		n := calls.Add(1)
		r := rand.New(rand.NewPCG(seed, n))
		usage := coco.Usage{InputTokens: 20 + r.IntN(200), OutputTokens: 5 + r.IntN(50)}
		switch roll := r.IntN(100); {
		case roll < 5:
			return nil, &coco.ProviderError{Provider: name, StatusCode: 429, RetryAfter: time.Millisecond}
		case roll < 9:
			return &coco.Response{Usage: usage}, &coco.ProviderError{Provider: name, StatusCode: 500} // billed failure
		case roll < 11:
			return nil, &coco.ProviderError{Provider: name, StatusCode: 400}
		case roll < 13:
			return &coco.Response{Model: name}, nil // no samples at all
		case roll < 16: // stall until the caller gives up
			<-ctx.Done()
			return nil, ctx.Err()
		case roll < 30: // a short, harmless delay
			t := time.NewTimer(time.Duration(r.IntN(300)) * time.Microsecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		texts := answers(r, req.SampleCount())
		resp := &coco.Response{Model: name, Usage: usage, Samples: make([]coco.Sample, len(texts))}
		for i, t := range texts {
			resp.Samples[i] = coco.Sample{Text: t}
		}
		return resp, nil
	}))
}

func loadCoco(tb testing.TB, seed uint64) *coco.Coco {
	tb.Helper()
	slm := chaosModel("llama3.2:3b", seed, func(r *rand.Rand, k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = fmt.Sprintf("Reasoning.\nA: %d", r.IntN(3))
		}
		return out
	})
	llm := chaosModel("gpt-4o", seed+1, func(r *rand.Rand, k int) []string {
		return []string{fmt.Sprintf("step\n####\n%d", r.IntN(3))}
	})
	c, err := coco.New(slm, llm, coco.WithSamples(5),
		coco.WithRetry(coco.RetryPolicy{BaseDelay: 100 * time.Microsecond, MaxDelay: time.Millisecond}))
	require.NoError(tb, err)
	return c
}

// TestLoad sends 10,000 tasks through Run from 256 concurrent callers against
// models that fail and stall at random: every task gets a result or an error,
// the meter's totals equal the sum of what the results account for, and the
// heap stays flat.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	const tasks, callers = 10_000, 256
	c := loadCoco(t, 7)
	var (
		next              atomic.Int64
		mu                sync.Mutex
		usage             coco.Usage
		cost              coco.Money
		ok, failed, calls int
		peak, mid         uint64
	)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > tasks {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				r, err := c.Run(ctx, fmt.Sprintf("Task %d: what is %d + %d?", i, i, i%7))
				cancel()
				mu.Lock()
				if err == nil {
					ok++
					assert.NotNil(t, r)
				} else {
					failed++
					assert.True(t, strings.HasPrefix(err.Error(), "coco: ") || errors.Is(err, context.DeadlineExceeded), "%v", err)
				}
				if r != nil {
					usage = usage.Add(r.Usage)
					cost += r.Cost
					calls += len(r.Calls)
				}
				if i%500 == 0 {
					var ms runtime.MemStats
					if i == tasks/5 {
						runtime.GC()
					}
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
					if i == tasks/5 {
						mid = ms.HeapAlloc
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep := c.Meter().Report()
	assert.Equal(t, tasks, ok+failed, "every task got a result or an error")
	assert.Equal(t, rep.Total.Usage, usage, "the meter's usage is the sum of the results'")
	assert.Equal(t, rep.Total.Cost, cost, "the meter's cost is the sum of the results'")
	assert.Equal(t, rep.Total.Calls, calls)
	assert.Zero(t, rep.Reserved)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d tasks: %d results, %d errors; %d metered calls, %s; peak heap %.1f MiB; after GC %.1f MiB at task %d and %.1f MiB at the end",
		tasks, ok, failed, calls, cost, float64(peak)/(1<<20), float64(mid)/(1<<20), tasks/5, float64(ms.HeapAlloc)/(1<<20))
	assert.Less(t, ms.HeapAlloc, mid+mid/2+4<<20, "the heap after 10,000 tasks is no bigger than after 2,000: no per-task state is kept")
}

// BenchmarkRunLoad is TestLoad's workload as a benchmark: many concurrent
// callers, failing and stalling models.
func BenchmarkRunLoad(b *testing.B) {
	c := loadCoco(b, 11)
	var i atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(128)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := i.Add(1)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			_, _ = c.Run(ctx, fmt.Sprintf("Task %d: what is %d + %d?", n, n, n%7))
			cancel()
		}
	})
}

func FuzzRun(f *testing.F) {
	f.Add("What is 2+2?", "A: 4", "four\n####\n4", uint8(3))
	f.Add("日本語の質問？", "答え\nA: 日本", "", uint8(1))
	f.Add(" ", "", "####", uint8(0))
	f.Add("\xff", "A: \xff", "\\boxed{", uint8(200))
	f.Fuzz(func(t *testing.T, task, slmText, llmText string, k uint8) {
		model := func(name, text string) coco.Model {
			return coco.NamedModel(name, coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
				n := req.SampleCount()
				resp := &coco.Response{Model: name, Usage: coco.Usage{InputTokens: 10, OutputTokens: len(text) % 50}}
				for i := range n {
					resp.Samples = append(resp.Samples, coco.Sample{Text: text + strings.Repeat(" ", i%2)})
				}
				return resp, nil
			}))
		}
		c, err := coco.New(model("llama3.2:3b", slmText), model("gpt-4o", llmText), coco.WithSamples(1+int(k)%8))
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Run(context.Background(), task)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "coco: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if r.Route != coco.RouteSLM && r.Route != coco.RouteLLM {
			t.Fatalf("route %q", r.Route)
		}
		if r.Confidence < 0 || r.Confidence > 1 {
			t.Fatalf("confidence %v", r.Confidence)
		}
		if r.Cost < 0 || r.Cost != c.Meter().Spent() {
			t.Fatalf("cost %v, meter %v", r.Cost, c.Meter().Spent())
		}
		if utf8.ValidString(slmText) && utf8.ValidString(llmText) && !utf8.ValidString(r.Answer) {
			t.Fatalf("invalid UTF-8 answer %q", r.Answer)
		}
	})
}
