package coco_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

// fixedModel answers every request with text and reports usage u.
func fixedModel(name, text string, u coco.Usage) coco.Model {
	return coco.NamedModel(name, coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
		samples := make([]coco.Sample, req.SampleCount())
		for i := range samples {
			samples[i] = coco.Sample{Text: text}
		}
		return &coco.Response{Model: name, Samples: samples, Usage: u}, nil
	}))
}

func userRequest(text string, maxTokens int) coco.Request {
	return coco.Request{Messages: []coco.Message{{Role: coco.RoleUser, Content: text}}, MaxTokens: maxTokens}
}

func TestMeterRecordsPerStageAndModel(t *testing.T) {
	t.Parallel()
	m, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)

	rec, err := m.Record(coco.StageLLM, "gpt-4o", coco.Usage{InputTokens: 1000, CachedInputTokens: 200, OutputTokens: 100})
	require.NoError(t, err)
	// 800 x $2.50/M + 200 x $1.25/M + 100 x $10/M = $0.002 + $0.00025 + $0.001
	assert.Equal(t, coco.Dollars(0.00325), rec.Cost)
	_, err = m.Record(coco.StageSLM, "llama3.2:3b", coco.Usage{InputTokens: 500, OutputTokens: 900})
	require.NoError(t, err)
	_, err = m.Record(coco.StageLLM, "gpt-4o", coco.Usage{InputTokens: 1000, OutputTokens: 100, Estimated: true})
	require.NoError(t, err)
	_, err = m.Record("compress", "gpt-4o-mini", coco.Usage{InputTokens: 1_000_000})
	require.NoError(t, err)

	r := m.Report()
	require.Len(t, r.Lines, 3)
	assert.Equal(t, "compress", r.Lines[0].Stage, "lines are sorted by stage")
	assert.Equal(t, 4, r.Total.Calls)
	assert.Equal(t, 1, r.Total.EstimatedCalls)
	assert.Equal(t, coco.Dollars(0.00325+0.0035+0.15), r.Total.Cost)
	assert.Equal(t, m.Spent(), r.Total.Cost)

	byModel := r.ByModel()
	require.Len(t, byModel, 3)
	assert.Equal(t, "gpt-4o", byModel[0].Model)
	assert.Equal(t, 2, byModel[0].Calls)
	assert.Equal(t, 2000, byModel[0].Usage.InputTokens)
	assert.Empty(t, byModel[0].Stage)

	byStage := r.ByStage()
	require.Len(t, byStage, 3)
	assert.Equal(t, []string{"compress", "llm", "slm"}, []string{byStage[0].Stage, byStage[1].Stage, byStage[2].Stage})
	assert.Equal(t, coco.Money(0), byStage[2].Cost, "the local SLM is free")

	table := r.String()
	for _, want := range []string{"stage", "gpt-4o", "llama3.2:3b", "total", "$0.15675", "~2000"} {
		assert.Contains(t, table, want)
	}
}

func TestMeterUnknownPrice(t *testing.T) {
	t.Parallel()
	m, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)
	_, err = m.Record(coco.StageLLM, "mystery-model", coco.Usage{InputTokens: 10})
	assert.True(t, errors.Is(err, coco.ErrUnknownPrice))
	assert.Zero(t, m.Report().Total.Calls, "nothing is recorded for an unknown model")

	_, _, err = m.Call(context.Background(), coco.StageLLM, fixedModel("mystery-model", "x", coco.Usage{}), userRequest("hi", 10))
	assert.True(t, errors.Is(err, coco.ErrUnknownPrice), "a call to an unpriced model is refused before it is sent")

	lenient, err := coco.NewMeter(coco.MeterOptions{AllowUnpriced: true})
	require.NoError(t, err)
	rec, err := lenient.Record(coco.StageLLM, "mystery-model", coco.Usage{InputTokens: 10})
	require.NoError(t, err)
	assert.True(t, rec.Unpriced)
	r := lenient.Report()
	assert.Equal(t, []string{"mystery-model"}, r.Unpriced)
	assert.Contains(t, r.String(), "(unpriced)")
}

func TestMeterConcurrentRecordsAreExact(t *testing.T) {
	t.Parallel()
	m, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)
	var hooked atomic.Int64
	m2, err := coco.NewMeter(coco.MeterOptions{OnRecord: func(coco.Record) { hooked.Add(1) }})
	require.NoError(t, err)

	const goroutines, perG = 64, 1000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stage := []string{coco.StageSLM, coco.StageLLM, coco.StageCompress, coco.StageAlign}[g%4]
			for i := range perG {
				u := coco.Usage{InputTokens: 1 + i%7, CachedInputTokens: i % 2, OutputTokens: 3 + g%5}
				_, err := m.Record(stage, "gpt-4o-mini", u)
				assert.NoError(t, err)
				_, err = m2.Record(stage, "gpt-4o-mini", u)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	// Compute the expected totals sequentially with the same price.
	p, err := coco.DefaultPrices().Lookup("gpt-4o-mini")
	require.NoError(t, err)
	var want coco.Usage
	var wantCost coco.Money
	for g := range goroutines {
		for i := range perG {
			u := coco.Usage{InputTokens: 1 + i%7, CachedInputTokens: i % 2, OutputTokens: 3 + g%5}
			want = want.Add(u)
			c, err := p.Cost(u)
			require.NoError(t, err)
			wantCost += c
		}
	}
	r := m.Report()
	assert.Equal(t, goroutines*perG, r.Total.Calls)
	assert.Equal(t, want, r.Total.Usage)
	assert.Equal(t, wantCost, r.Total.Cost)
	assert.Equal(t, int64(goroutines*perG), hooked.Load())
}

func TestMeterCallFillsMissingUsage(t *testing.T) {
	t.Parallel()
	m, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)
	ctx := context.Background()

	reported := coco.Usage{InputTokens: 42, OutputTokens: 7}
	resp, rec, err := m.Call(ctx, coco.StageLLM, fixedModel("gpt-4o", "hello world", reported), userRequest("hi", 10))
	require.NoError(t, err)
	assert.Equal(t, reported, rec.Usage, "provider-reported usage wins")
	assert.Equal(t, reported, resp.Usage)

	req := coco.Request{Messages: cookbookMessages, MaxTokens: 50, Samples: 3}
	resp, rec, err = m.Call(ctx, coco.StageLLM, fixedModel("gpt-4o", "hello world", coco.Usage{}), req)
	require.NoError(t, err)
	assert.Equal(t, coco.Usage{InputTokens: 124, OutputTokens: 3 * 2, Estimated: true}, rec.Usage,
		"missing usage is counted locally: the prompt once, every sample's text")
	assert.Equal(t, rec.Usage, resp.Usage)

	_, rec, err = m.Call(ctx, coco.StageLLM, fixedModel("gpt-4o", "hello world", coco.Usage{InputTokens: 5}), userRequest("hi", 10))
	require.NoError(t, err)
	assert.Equal(t, coco.Usage{InputTokens: 5, OutputTokens: 2, Estimated: true}, rec.Usage, "only the gaps are filled")

	r := m.Report()
	assert.Equal(t, 3, r.Total.Calls)
	assert.Equal(t, 2, r.Total.EstimatedCalls)
	assert.Contains(t, r.String(), "estimated for 2 of 3 calls")
}

func TestMeterCallErrors(t *testing.T) {
	t.Parallel()
	m, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(1)})
	require.NoError(t, err)
	ctx := context.Background()
	boom := errors.New("provider exploded")

	unnamed := coco.ModelFunc(func(context.Context, coco.Request) (*coco.Response, error) { return nil, nil })
	_, _, err = m.Call(ctx, coco.StageLLM, unnamed, userRequest("hi", 10))
	assert.True(t, errors.Is(err, coco.ErrUnnamedModel))

	failing := coco.NamedModel("gpt-4o", coco.ModelFunc(func(context.Context, coco.Request) (*coco.Response, error) {
		return nil, boom
	}))
	_, _, err = m.Call(ctx, coco.StageLLM, failing, userRequest("secret prompt", 10))
	var se *coco.StageError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, coco.StageLLM, se.Stage)
	assert.Equal(t, "gpt-4o", se.Model)
	assert.True(t, errors.Is(err, boom))
	assert.Equal(t, "coco: llm (gpt-4o): provider exploded", err.Error())
	assert.NotContains(t, err.Error(), "secret prompt")

	billedFailure := coco.NamedModel("gpt-4o", coco.ModelFunc(func(context.Context, coco.Request) (*coco.Response, error) {
		return &coco.Response{Usage: coco.Usage{InputTokens: 100}}, boom
	}))
	_, rec, err := m.Call(ctx, coco.StageLLM, billedFailure, userRequest("hi", 10))
	require.Error(t, err)
	assert.True(t, rec.Failed)
	assert.Equal(t, 100, rec.Usage.InputTokens)

	_, _, err = m.Call(ctx, coco.StageLLM, coco.NamedModel("gpt-4o", coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
		return &coco.Response{}, nil
	})), userRequest("hi", 10))
	assert.True(t, errors.Is(err, coco.ErrEmptyResponse))

	r := m.Report()
	assert.Equal(t, 2, r.Total.Calls, "the billed failure and the empty response are recorded")
	assert.Equal(t, 2, r.Total.FailedCalls)
	assert.Zero(t, r.Reserved, "every hold is released")
}

func TestMeterBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, err := coco.NewMeter(coco.MeterOptions{Budget: -1})
	require.Error(t, err)

	// gpt-4-0613 costs $30/M input and $60/M output. The request "hi" is 8
	// prompt tokens: its worst case with 1,000 output tokens is
	// 8 x $0.00003 + 1000 x $0.00006 = $0.06024.
	m, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(0.10)})
	require.NoError(t, err)
	res, err := m.Reserve(coco.StageLLM, "gpt-4-0613", userRequest("hi", 1000))
	require.NoError(t, err)
	assert.Equal(t, coco.Dollars(0.06024), res.Amount())
	assert.Equal(t, coco.Dollars(0.10-0.06024), m.Remaining())

	_, err = m.Reserve(coco.StageLLM, "gpt-4-0613", userRequest("hi", 1000))
	require.True(t, errors.Is(err, coco.ErrBudgetExceeded), "a second worst case does not fit next to the first hold")
	assert.Contains(t, err.Error(), "may cost up to $0.06024")

	rec, err := res.Settle(coco.Usage{InputTokens: 8, OutputTokens: 10})
	require.NoError(t, err)
	assert.Equal(t, coco.Dollars(0.00084), rec.Cost)
	_, err = res.Settle(coco.Usage{InputTokens: 8})
	assert.Error(t, err, "a reservation settles once")
	assert.Equal(t, coco.Dollars(0.00084), m.Spent())

	res2, err := m.Reserve(coco.StageLLM, "gpt-4-0613", userRequest("hi", 1000))
	require.NoError(t, err, "settling to the real cost frees the rest of the hold")
	res2.Release()
	res2.Release()
	assert.Zero(t, m.Report().Reserved)

	// Samples multiply the output worst case.
	_, err = m.Reserve(coco.StageLLM, "gpt-4-0613", coco.Request{Messages: userRequest("hi", 1000).Messages, MaxTokens: 1000, Samples: 2})
	assert.True(t, errors.Is(err, coco.ErrBudgetExceeded))

	// Free models are never blocked, whatever the budget.
	tiny, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Picodollar})
	require.NoError(t, err)
	_, _, err = tiny.Call(ctx, coco.StageSLM, fixedModel("llama3.2:3b", "ok", coco.Usage{}), coco.Request{Messages: cookbookMessages})
	require.NoError(t, err)
	_, _, err = tiny.Call(ctx, coco.StageLLM, fixedModel("gpt-4o-mini", "ok", coco.Usage{}), userRequest("hi", 10))
	assert.True(t, errors.Is(err, coco.ErrBudgetExceeded), "a paid model is blocked before it is sent")
}

func TestMeterBudgetNeedsOutputLimit(t *testing.T) {
	t.Parallel()
	prices, err := coco.NewPriceTable(map[string]coco.Price{"no-limit": {Input: 1, Output: 1}})
	require.NoError(t, err)
	m, err := coco.NewMeter(coco.MeterOptions{Prices: prices, Budget: coco.Dollars(1)})
	require.NoError(t, err)
	_, err = m.Reserve(coco.StageLLM, "no-limit", userRequest("hi", 0))
	assert.True(t, errors.Is(err, coco.ErrNoOutputLimit))
	_, err = m.Reserve(coco.StageLLM, "no-limit", userRequest("hi", 5))
	assert.NoError(t, err, "MaxTokens bounds the output")

	// Without MaxTokens the table's MaxOutput bounds it: gpt-4o's 16,384.
	dm, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(1)})
	require.NoError(t, err)
	res, err := dm.Reserve(coco.StageLLM, "gpt-4o", userRequest("hi", 0))
	require.NoError(t, err)
	assert.Equal(t, 8*coco.Dollars(2.5)/1e6+16384*coco.Dollars(10)/1e6, res.Amount())
}

func TestMeterBudgetMarginForEstimatedCounts(t *testing.T) {
	t.Parallel()
	// claude-haiku-4-5 has no local tokenizer: its prompt count is an
	// estimate, held with a 50% margin. The prompt "hi" is 8 tokens by the
	// cl100k approximation: 12 are held, at $1.25/M (the cache-write price,
	// the dearest input rate).
	m, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(1)})
	require.NoError(t, err)
	res, err := m.Reserve(coco.StageLLM, "claude-haiku-4-5", userRequest("hi", 100))
	require.NoError(t, err)
	assert.Equal(t, 12*coco.Dollars(1.25)/1e6+100*coco.Dollars(5)/1e6, res.Amount())
}

func TestMeterBudgetIsAHardCapUnderConcurrency(t *testing.T) {
	t.Parallel()
	// 256 callers race for a budget that fits 10 worst cases; each call
	// really costs its worst case (an OpenAI-family name, so the prompt count is
	// exact and held without margin). Exactly 10 may go through, and the spend
	// never passes the budget.
	prices, err := coco.NewPriceTable(map[string]coco.Price{"gpt-4o-paid": {Input: coco.Microdollar, Output: coco.Microdollar, MaxOutput: 100}})
	require.NoError(t, err)
	req := userRequest("hi", 92) // 8 prompt tokens + 92 output = 100 tokens = $0.0001
	budget := 10 * 100 * coco.Microdollar
	m, err := coco.NewMeter(coco.MeterOptions{Prices: prices, Budget: budget})
	require.NoError(t, err)
	model := fixedModel("gpt-4o-paid", "x", coco.Usage{InputTokens: 8, OutputTokens: 92})

	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := m.Call(context.Background(), coco.StageLLM, model, req)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, coco.ErrBudgetExceeded):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(10), ok.Load())
	assert.Equal(t, int64(246), refused.Load())
	assert.Equal(t, budget, m.Spent())
	assert.Zero(t, m.Remaining())
}

func TestMeterCounterfactual(t *testing.T) {
	t.Parallel()
	m, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)
	_, err = m.Record(coco.StageSLM, "llama3.2:3b", coco.Usage{InputTokens: 1000, OutputTokens: 500})
	require.NoError(t, err)
	_, err = m.Record(coco.StageLLM, "gpt-4o-mini", coco.Usage{InputTokens: 2000, OutputTokens: 100})
	require.NoError(t, err)

	all, err := m.Counterfactual("gpt-4-0613")
	require.NoError(t, err)
	assert.Equal(t, 3000*30*coco.Microdollar+600*60*coco.Microdollar, all)

	llmOnly, err := m.Counterfactual("gpt-4-0613", coco.StageLLM)
	require.NoError(t, err)
	assert.Equal(t, 2000*30*coco.Microdollar+100*60*coco.Microdollar, llmOnly)

	_, err = m.Counterfactual("mystery")
	assert.True(t, errors.Is(err, coco.ErrUnknownPrice))
}

func TestMeterZeroValue(t *testing.T) {
	t.Parallel()
	var m coco.Meter
	rec, err := m.Record(coco.StageLLM, "gpt-4o", coco.Usage{OutputTokens: 1})
	require.NoError(t, err)
	assert.Equal(t, 10*coco.Microdollar, rec.Cost)
	assert.Zero(t, m.Budget())
	_, err = m.Record("", "gpt-4o", coco.Usage{})
	assert.Error(t, err, "a stage must be named")
}

func TestStageErrorFormat(t *testing.T) {
	t.Parallel()
	err := &coco.StageError{Stage: "llm", Err: fmt.Errorf("%w: x", coco.ErrBudgetExceeded)}
	assert.Equal(t, "coco: llm: budget exceeded: x", err.Error())
	assert.True(t, strings.HasPrefix((&coco.StageError{Stage: "s", Model: "m", Err: errors.New("e")}).Error(), "coco: s (m): e"))
}

func TestMeterBudgetCountsThePromptPerSample(t *testing.T) {
	t.Parallel()
	// A provider that ignores n is asked once a sample and bills the prompt
	// each time: 3 samples of "hi" (8 tokens) with 10 output tokens each hold
	// 3 x 8 input and 3 x 10 output tokens.
	prices, err := coco.NewPriceTable(map[string]coco.Price{"gpt-4o-paid": {Input: coco.Microdollar, Output: coco.Microdollar}})
	require.NoError(t, err)
	m, err := coco.NewMeter(coco.MeterOptions{Prices: prices, Budget: coco.Dollar})
	require.NoError(t, err)
	req := userRequest("hi", 10)
	req.Samples = 3
	res, err := m.Reserve(coco.StageSLM, "gpt-4o-paid", req)
	require.NoError(t, err)
	assert.Equal(t, (3*8+3*10)*coco.Microdollar, res.Amount())
}
