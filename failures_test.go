package coco_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/cocotest"
)

// clock records the waits a RetryPolicy asks for, without waiting.
type clock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	return ctx.Err()
}

var unsure = cocotest.Answers("A: 1", "A: 2", "A: 3")

// longTask has a context paragraph before its question, for the compressor.
var longTask = "The town hall of Karsfeld was built in 1912. Its clock tower is 40 metres tall. " +
	"The square in front of it hosts a market every Saturday, and the fountain was restored last year.\n\n" +
	"How tall is the clock tower?"

func TestRetryHonoursRetryAfterAndMetersFailedAttempts(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
	limited := &coco.ProviderError{Provider: "test", StatusCode: 429, RetryAfter: 2 * time.Second}
	llm := cocotest.NewModel("gpt-4o").Then(
		cocotest.Reply{Err: limited, Usage: coco.Usage{InputTokens: 100}}, // billed though it failed
		cocotest.Reply{Texts: []string{"step\n####\n2"}, Usage: coco.Usage{InputTokens: 100, OutputTokens: 5}},
	)
	var clk clock
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithRetry(coco.RetryPolicy{Sleep: clk.sleep}))
	r, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, "2", r.Answer)
	assert.Equal(t, 1, r.Retries)
	assert.Equal(t, []time.Duration{2 * time.Second}, clk.waits, "Retry-After is longer than any first backoff (<= 250ms)")
	require.Len(t, r.Calls, 3, "slm, the billed failure, the retry")
	assert.True(t, r.Calls[1].Failed)
	assert.Equal(t, 100, r.Calls[1].Usage.InputTokens)
	assert.Equal(t, c.Meter().Spent(), r.Cost, "the failed attempt's tokens are paid for and counted")
}

func TestRetryBackoffAndLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	down := &coco.ProviderError{Provider: "test", StatusCode: 503}

	t.Run("full jitter within bounds, then give up", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(down))
		var clk clock
		pol := coco.RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond, Sleep: clk.sleep}
		r, err := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithRetry(pol)).Run(ctx, task)
		require.NoError(t, err, "the SLM's answer is kept")
		assert.Contains(t, r.Degraded[0], "LLM call failed")
		assert.Equal(t, 5, llm.Calls())
		require.Len(t, clk.waits, 4)
		for i, w := range clk.waits {
			ceiling := min(100*time.Millisecond<<i, 300*time.Millisecond)
			assert.LessOrEqual(t, w, ceiling, "wait %d", i)
			assert.GreaterOrEqual(t, w, time.Duration(0))
		}
	})
	t.Run("no retry for other 4xx", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(&coco.ProviderError{Provider: "test", StatusCode: 400}))
		var clk clock
		_, err := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithStrict(true), coco.WithRetry(coco.RetryPolicy{Sleep: clk.sleep})).Run(ctx, task)
		require.Error(t, err)
		assert.Equal(t, 1, llm.Calls())
		assert.Empty(t, clk.waits)
	})
	t.Run("no retry past a long Retry-After", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(&coco.ProviderError{Provider: "test", StatusCode: 429, RetryAfter: time.Hour}))
		var clk clock
		_, err := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithStrict(true), coco.WithRetry(coco.RetryPolicy{Sleep: clk.sleep})).Run(ctx, task)
		assert.ErrorIs(t, err, coco.ErrRateLimited)
		assert.Equal(t, 1, llm.Calls())
	})
	t.Run("no retry past the deadline", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(&coco.ProviderError{Provider: "test", StatusCode: 429, RetryAfter: 30 * time.Second}))
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithStrict(true)).Run(dctx, task)
		assert.ErrorIs(t, err, coco.ErrRateLimited, "gives up at once rather than sleep past the deadline")
		assert.Less(t, time.Since(start), 4*time.Second)
		assert.Equal(t, 1, llm.Calls())
	})
	t.Run("cancelled during the backoff", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(&coco.ProviderError{Provider: "test", StatusCode: 429, RetryAfter: 20 * time.Second}))
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		_, err := newCoco(t, slm, llm, coco.WithSamples(3)).Run(cctx, task)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Less(t, time.Since(start), 10*time.Second)
	})
	t.Run("retries off", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(down))
		_, err := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithStrict(true), coco.WithRetry(coco.RetryPolicy{MaxAttempts: 1})).Run(ctx, task)
		assert.ErrorIs(t, err, coco.ErrProviderUnavailable)
		assert.Equal(t, 1, llm.Calls())
	})
	_, err := coco.New(cocotest.NewModel("llama3.2:3b"), cocotest.NewModel("gpt-4o"), coco.WithRetry(coco.RetryPolicy{MaxAttempts: -1}))
	assert.Error(t, err)
}

type failingCompressor struct{}

func (failingCompressor) Compress(context.Context, coco.CompressRequest) (*coco.Compressed, error) {
	return nil, errors.New("compressor broke")
}

type failingAligner struct{}

func (failingAligner) Align(context.Context, *coco.Attempt, *coco.Sketch) (*coco.Alignment, error) {
	return nil, errors.New("aligner broke")
}

func TestStageFailuresDegrade(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("one step\n####\n2"))
	half := coco.WithCompressionRate(coco.RateFunc(func(float64, int) float64 { return 0.5 }))
	r, err := newCoco(t, slm, llm, coco.WithSamples(3), half, coco.WithCompressor(failingCompressor{}), coco.WithAligner(failingAligner{})).Run(context.Background(), longTask)
	require.NoError(t, err)
	assert.Equal(t, "2", r.Answer)
	assert.Equal(t, longTask, llm.Requests()[0].Messages[len(llm.Requests()[0].Messages)-1].Content, "the task goes uncompressed")
	assert.Equal(t, "one step\n####\n2", r.Rationale, "the rationale is the LLM's text")
	joined := strings.Join(r.Degraded, "\n")
	assert.Contains(t, joined, "compressor failed")
	assert.Contains(t, joined, "aligner failed")
}

// blocking stages wait for their context.
type blockingCompressor struct{}

func (blockingCompressor) Compress(ctx context.Context, _ coco.CompressRequest) (*coco.Compressed, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type blockingAligner struct{}

func (blockingAligner) Align(ctx context.Context, _ *coco.Attempt, _ *coco.Sketch) (*coco.Alignment, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCancellationAtEveryStage(t *testing.T) {
	t.Parallel()
	stall := func(texts ...string) cocotest.Reply { return cocotest.Reply{Texts: texts, Delay: time.Minute} }
	for _, tc := range []struct {
		name     string
		slm, llm cocotest.Reply
		opts     []coco.Option
		partial  bool // calls were made before the stall
	}{
		{"SLM stalls", stall("A: 1"), cocotest.Answers("x\n####\n1"), nil, false},
		{"compressor blocks", unsure, cocotest.Answers("x\n####\n1"), []coco.Option{coco.WithCompressor(blockingCompressor{}),
			coco.WithCompressionRate(coco.RateFunc(func(float64, int) float64 { return 0.5 }))}, true},
		{"LLM stalls", unsure, stall("x\n####\n1"), nil, true},
		{"aligner blocks", unsure, cocotest.Answers("x\n####\n1"), []coco.Option{coco.WithAligner(blockingAligner{})}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			slm := cocotest.NewModel("llama3.2:3b").Default(tc.slm)
			llm := cocotest.NewModel("gpt-4o").Default(tc.llm)
			opts := append([]coco.Option{coco.WithSamples(3)}, tc.opts...)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			start := time.Now()
			r, err := newCoco(t, slm, llm, opts...).Run(ctx, longTask)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 10*time.Second)
			if tc.partial {
				require.NotNil(t, r, "calls were made: the partial result accounts for them")
				assert.NotEmpty(t, r.Calls)
			}
		})
	}
}

func TestPartialResultAccountsForSpending(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
	boom := &coco.ProviderError{Provider: "test", StatusCode: 400}
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Reply{Err: boom, Usage: coco.Usage{InputTokens: 300}})
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithStrict(true))
	r, err := c.Run(context.Background(), task)
	require.ErrorIs(t, err, boom)
	require.NotNil(t, r)
	assert.Equal(t, c.Meter().Spent(), r.Cost)
	assert.Equal(t, 300*coco.Dollars(2.5)/1e6, r.Cost)
}

func TestTaskTooLarge(t *testing.T) {
	t.Parallel()
	prices, err := coco.NewPriceTable(map[string]coco.Price{
		"llama3.2:3b": {}, "gpt-4o-small-window": {Input: 1, Output: 1, ContextWindow: 100, MaxOutput: 50},
	})
	require.NoError(t, err)
	slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
	llm := cocotest.NewModel("gpt-4o-small-window")
	c := newCoco(t, slm, llm, coco.WithPrices(prices))
	_, err = c.Run(context.Background(), strings.Repeat("many words here ", 100))
	assert.ErrorIs(t, err, coco.ErrTaskTooLarge)
	assert.Contains(t, err.Error(), "gpt-4o-small-window takes 100")
	assert.Zero(t, slm.Calls(), "nothing is sent")
	_, err = c.Run(context.Background(), "short task")
	assert.NoError(t, err)

	_, err = newCoco(t, slm, cocotest.NewModel("gpt-4o")).Run(context.Background(), strings.Repeat("x", coco.MaxTaskBytes+1))
	assert.ErrorIs(t, err, coco.ErrTaskTooLarge)
}
