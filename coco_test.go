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

const task = "Yesterday was April 30, 2021. What is the date today in MM/DD/YYYY?"

func newCoco(t *testing.T, slm, llm coco.Model, opts ...coco.Option) *coco.Coco {
	t.Helper()
	c, err := coco.New(slm, llm, opts...)
	require.NoError(t, err)
	return c
}

func TestRunConfidentSLM(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers(
		"Today is May 1.\nA: 05/01/2021", "A: 5/1/2021", "A: May 1, 2021", "A: 05/01/2021", "A: 05/02/2021"))
	llm := cocotest.NewModel("gpt-4o")
	c := newCoco(t, slm, llm)

	r, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteSLM, r.Route)
	assert.Equal(t, "05/01/2021", r.Answer)
	assert.Equal(t, "05/01/2021", r.Normalized)
	assert.Equal(t, "Today is May 1.\nA: 05/01/2021", r.Rationale)
	assert.InDelta(t, 0.8, r.Confidence, 0.05, "4 of 5 agree once normalised")
	assert.GreaterOrEqual(t, r.Confidence, coco.DefaultThreshold)
	assert.Zero(t, llm.Calls(), "a confident SLM saves the LLM call")
	require.Len(t, r.Calls, 1)
	assert.Equal(t, coco.StageSLM, r.Calls[0].Stage)
	assert.Zero(t, r.Cost, "the local SLM is free")
	assert.Positive(t, r.LLMOnlyCost)
	assert.Equal(t, r.LLMOnlyCost, r.Saved)
	assert.Contains(t, r.Estimated[len(r.Estimated)-1], "LLMOnlyCost")
	assert.Empty(t, r.Degraded)

	reqs := slm.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, coco.DefaultSamples, reqs[0].Samples)
	assert.True(t, reqs[0].Logprobs)
	require.NotNil(t, reqs[0].Temperature)
	assert.Equal(t, 0.7, *reqs[0].Temperature)
	assert.Equal(t, task, reqs[0].Messages[len(reqs[0].Messages)-1].Content)
}

func TestRunEscalatesToLLM(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers("A: 05/01/2021", "A: 04/30/2021", "A: 05/02/2021", "A: 05/01/2021", "A: 06/01/2021"))
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Reply{
		Texts: []string{"Yesterday + 1 day.\nA: 05/01/2021"},
		Usage: coco.Usage{InputTokens: 60, OutputTokens: 12},
	})
	c := newCoco(t, slm, llm)
	r, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteLLM, r.Route)
	assert.Contains(t, r.Reason, "below threshold")
	assert.Equal(t, "05/01/2021", r.Answer)
	assert.Equal(t, "05/01/2021", r.LLMAnswer)
	assert.Equal(t, "05/01/2021", r.SLMAnswer)
	assert.Equal(t, "1. Yesterday + 1 day.\nAnswer: 05/01/2021", r.Rationale, "the SLM's sample has no steps: the LLM's sketch")
	require.NotNil(t, r.Sketch)
	assert.Equal(t, []string{"Yesterday + 1 day."}, r.Sketch.Steps)
	assert.False(t, r.Sketch.Separated)
	require.NotNil(t, r.Alignment)
	assert.True(t, r.Alignment.AnswersAgree)
	assert.Contains(t, r.Degraded, "the LLM did not use the answer separator; its answer was found by fallback")
	require.Len(t, r.Calls, 2)
	u, cost := r.StageCost(coco.StageLLM)
	assert.Equal(t, coco.Usage{InputTokens: 60, OutputTokens: 12}, u)
	assert.Equal(t, 60*coco.Dollars(2.5)/1e6+12*coco.Dollars(10)/1e6, cost)
	assert.Equal(t, cost, r.Cost)
	assert.Equal(t, r.LLMOnlyCost-r.Cost, r.Saved)
	require.NotNil(t, r.Compression)
	assert.Equal(t, 1.0, r.Compression.AchievedRate)
	assert.Equal(t, task, llm.Requests()[0].Messages[len(llm.Requests()[0].Messages)-1].Content)

	// The meter saw the same calls.
	rep := c.Meter().Report()
	assert.Equal(t, 2, rep.Total.Calls)
	assert.Equal(t, r.Cost, rep.Total.Cost)
}

func TestRunSwappedStrategies(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers("A: 1", "A: 1", "A: 1"))
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("A: 2"))

	always := coco.RouterFunc(func(ctx context.Context, a *coco.Attempt, conf float64) (coco.Decision, error) {
		return coco.Decision{Route: coco.RouteLLM, Reason: "policy: always ask"}, nil
	})
	c := newCoco(t, slm, llm, coco.WithRouter(always), coco.WithSamples(3))
	r, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteLLM, r.Route)
	assert.Equal(t, "policy: always ask", r.Reason)
	assert.Equal(t, "2", r.Answer)

	doubtful := coco.EstimatorFunc(func(*coco.Attempt) (float64, bool) { return 0.1, true })
	c = newCoco(t, slm, llm, coco.WithEstimator(doubtful), coco.WithThreshold(0.05))
	r, err = c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteSLM, r.Route, "0.1 is above the threshold 0.05")
	assert.Equal(t, 0.1, r.Confidence)
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	boom := errors.New("upstream 503")
	unsure := cocotest.Answers("A: 1", "A: 2", "A: 3", "A: 1", "A: 4")

	t.Run("SLM fails: the LLM answers", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Fail(boom))
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("A: 7"))
		r, err := newCoco(t, slm, llm).Run(ctx, task)
		require.NoError(t, err)
		assert.Equal(t, coco.RouteLLM, r.Route)
		assert.Equal(t, "7", r.Answer)
		assert.Nil(t, r.SLM)
		require.NotEmpty(t, r.Degraded)
		assert.Contains(t, r.Degraded[0], "upstream 503")
	})
	t.Run("both fail: an error", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Fail(boom))
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(boom))
		_, err := newCoco(t, slm, llm).Run(ctx, task)
		var se *coco.StageError
		require.True(t, errors.As(err, &se))
		assert.Equal(t, coco.StageLLM, se.Stage)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("LLM fails: the SLM answer, degraded", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Fail(boom))
		r, err := newCoco(t, slm, llm).Run(ctx, task)
		require.NoError(t, err)
		assert.Equal(t, coco.RouteSLM, r.Route)
		assert.Equal(t, "1", r.Answer)
		assert.Contains(t, r.Reason, "LLM call failed")
		require.NotEmpty(t, r.Degraded)
		assert.Contains(t, r.Degraded[0], "SLM answer kept")

		_, err = newCoco(t, slm, llm, coco.WithStrict(true)).Run(ctx, task)
		assert.ErrorIs(t, err, boom, "strict mode fails instead")
	})
	t.Run("budget spent: the SLM answer, degraded", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(unsure)
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("A: 1"))
		c := newCoco(t, slm, llm, coco.WithBudget(coco.Cent/100))
		r, err := c.Run(ctx, task)
		require.NoError(t, err)
		assert.Equal(t, coco.RouteSLM, r.Route)
		assert.Contains(t, r.Reason, "budget spent")
		assert.Zero(t, llm.Calls(), "nothing is sent past the budget")

		c = newCoco(t, slm, llm, coco.WithBudget(coco.Cent/100), coco.WithStrict(true))
		_, err = c.Run(ctx, task)
		assert.ErrorIs(t, err, coco.ErrBudgetExceeded)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Reply{Texts: []string{"A: 1"}, Delay: time.Minute})
		llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("A: 1"))
		cctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := newCoco(t, slm, llm).Run(cctx, task)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, llm.Calls())
	})
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	c := newCoco(t, cocotest.NewModel("llama3.2:3b"), cocotest.NewModel("gpt-4o"))
	for _, in := range []string{"", "  \n\t", string([]byte{0xff, 0xfe})} {
		_, err := c.Run(context.Background(), in)
		require.Error(t, err, "%q", in)
		assert.Contains(t, err.Error(), "coco: ")
	}
	_, err := c.Run(context.Background(), "")
	assert.ErrorIs(t, err, coco.ErrEmptyTask)
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	slm, llm := cocotest.NewModel("llama3.2:3b"), cocotest.NewModel("gpt-4o")
	unnamed := coco.ModelFunc(func(context.Context, coco.Request) (*coco.Response, error) { return nil, nil })
	meter, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		slm, llm coco.Model
		opts     []coco.Option
		is       error
	}{
		{"nil model", nil, llm, nil, nil},
		{"unnamed model", unnamed, llm, nil, coco.ErrUnnamedModel},
		{"unpriced model", cocotest.NewModel("mystery-7b"), llm, nil, coco.ErrUnknownPrice},
		{"zero samples", slm, llm, []coco.Option{coco.WithSamples(0)}, nil},
		{"negative budget", slm, llm, []coco.Option{coco.WithBudget(-1)}, nil},
		{"NaN threshold", slm, llm, []coco.Option{coco.WithThreshold(nan())}, nil},
		{"negative threshold", slm, llm, []coco.Option{coco.WithThreshold(-0.1)}, nil},
		{"threshold and router", slm, llm, []coco.Option{coco.WithThreshold(0.5), coco.WithRouter(coco.ThresholdRouter{})}, nil},
		{"meter and budget", slm, llm, []coco.Option{coco.WithMeter(meter), coco.WithBudget(coco.Dollar)}, nil},
		{"nil router", slm, llm, []coco.Option{coco.WithRouter(nil)}, nil},
		{"nil option", slm, llm, []coco.Option{nil}, nil},
		{"bad temperature", slm, llm, []coco.Option{coco.WithTemperature(3)}, nil},
	} {
		_, err := coco.New(tc.slm, tc.llm, tc.opts...)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), "coco: ", tc.name)
		if tc.is != nil {
			assert.ErrorIs(t, err, tc.is, tc.name)
		}
	}
	// Unpriced models are allowed through a meter that allows them.
	lenient, err := coco.NewMeter(coco.MeterOptions{AllowUnpriced: true})
	require.NoError(t, err)
	_, err = coco.New(cocotest.NewModel("mystery-7b"), llm, coco.WithMeter(lenient))
	assert.NoError(t, err)
	// The last of repeated options wins.
	c, err := coco.New(slm, llm, coco.WithSamples(3), coco.WithSamples(7))
	require.NoError(t, err)
	slm.Default(cocotest.Answers("A: 1"))
	_, err = c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, 7, slm.Requests()[0].Samples)
}

func nan() float64 { var z float64; return z / z }

func TestRunHooks(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers("A: 1", "A: 2", "A: 3"))
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("one step\n####\n2"))
	var mu sync.Mutex
	var events []string
	add := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	first := coco.Hooks{
		OnCallStart: func(ctx context.Context, stage, model string, req coco.Request) { add("start " + stage + "/" + model) },
		OnCall: func(ctx context.Context, rec coco.Record, resp *coco.Response, err error) {
			add("call " + rec.Stage + "/" + rec.Model)
		},
		OnRoute:    func(ctx context.Context, d coco.Decision, conf float64) { add("route " + string(d.Route)) },
		OnCompress: func(ctx context.Context, c *coco.Compressed) { add("compress") },
		OnAlign:    func(ctx context.Context, a *coco.Alignment) { add("align") },
	}
	second := coco.Hooks{OnDone: func(ctx context.Context, r *coco.Result) { add("done " + r.Answer) }}
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithHooks(coco.CombineHooks(first, second, coco.Hooks{})))
	_, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, []string{"start slm/llama3.2:3b", "call slm/llama3.2:3b", "route llm", "compress",
		"start llm/gpt-4o", "call llm/gpt-4o", "align", "done 2"}, events)
}

func TestRunConcurrentMeterTotals(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").
		On("even", cocotest.Reply{Texts: []string{"A: 1", "A: 1", "A: 1", "A: 1", "A: 2"}, Usage: coco.Usage{InputTokens: 30, OutputTokens: 20}}).
		Default(cocotest.Reply{Texts: []string{"A: 1", "A: 2", "A: 3", "A: 4", "A: 5"}, Usage: coco.Usage{InputTokens: 30, OutputTokens: 20}})
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Reply{Texts: []string{"A: 9"}, Usage: coco.Usage{InputTokens: 40, OutputTokens: 7}})
	c := newCoco(t, slm, llm)

	const n = 200
	results := make([]*coco.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := "odd task"
			if i%2 == 0 {
				q = "even task"
			}
			r, err := c.Run(context.Background(), q)
			assert.NoError(t, err)
			results[i] = r
		}()
	}
	wg.Wait()
	var sum coco.Money
	var usage coco.Usage
	llmRuns := 0
	for _, r := range results {
		sum += r.Cost
		usage = usage.Add(r.Usage)
		if r.Route == coco.RouteLLM {
			llmRuns++
		}
	}
	assert.Equal(t, n/2, llmRuns, "odd tasks are unsure and escalate")
	rep := c.Meter().Report()
	assert.Equal(t, sum, rep.Total.Cost)
	assert.Equal(t, usage, rep.Total.Usage)
	assert.Equal(t, n+n/2, rep.Total.Calls)
}

func TestRunSLMExpansion(t *testing.T) {
	t.Parallel()
	unsure := cocotest.Answers("Born 02/28/2001.\nA: 02/27/2017", "A: 02/28/2017", "A: 02/26/2017")
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("born 02/28/2001\nbirthday 02/28/2017\nminus 1 day\n####\n02/27/2017"))

	slm := cocotest.NewModel("llama3.2:3b").Then(unsure,
		cocotest.Answers("She was born on 02/28/2001, so her 16th birthday is 02/28/2017, and the day before is 02/27/2017.\nA: 02/27/2017"))
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithSLMExpansion(true))
	r, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteLLM, r.Route)
	assert.Contains(t, r.Rationale, "She was born on 02/28/2001")
	require.Len(t, r.Calls, 3)
	assert.Equal(t, coco.StageAlign, r.Calls[2].Stage, "the expansion is metered under its own stage")
	assert.Equal(t, "llama3.2:3b", r.Calls[2].Model)
	expReq := slm.Requests()[1]
	assert.Contains(t, expReq.Messages[1].Content, "Answer: 02/27/2017", "the SLM expands the fused rationale")

	slm = cocotest.NewModel("llama3.2:3b").Then(unsure, cocotest.Answers("So the answer is 03/01/2017.\nA: 03/01/2017"))
	c = newCoco(t, slm, llm, coco.WithSamples(3), coco.WithSLMExpansion(true))
	r, err = c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(r.Rationale, "1. "), "an expansion that changes the answer is discarded")
	assert.Contains(t, r.Degraded, "SLM expansion changed the answer; the terse rationale is kept")
}

func TestRunLLMWithoutAnswer(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers("A: 1", "A: 2", "A: 3"))
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("I would rather not say."))
	r, err := newCoco(t, slm, llm, coco.WithSamples(3)).Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteSLM, r.Route)
	assert.Equal(t, "1", r.Answer)
	assert.Contains(t, r.Reason, "the LLM gave no answer")

	_, err = newCoco(t, slm, llm, coco.WithSamples(3), coco.WithStrict(true)).Run(context.Background(), task)
	assert.ErrorIs(t, err, coco.ErrNoAnswer)
}

// upperAnswers normalises answers to upper case: a stand-in for a caller's
// own extractor.
type upperAnswers struct{ coco.StandardAnswers }

func (upperAnswers) Normalize(a string) string { return strings.ToUpper(strings.TrimSpace(a)) }

func TestOptionsReachTheCalls(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers("A: paris", "A: Paris", "A: PARIS"))
	llm := cocotest.NewModel("gpt-4o")
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithSLMMaxTokens(77), coco.WithTemperature(0.3),
		coco.WithAnswerExtractor(upperAnswers{}))
	r, err := c.Run(context.Background(), "What is the capital of France?")
	require.NoError(t, err)
	assert.Equal(t, "PARIS", r.Normalized, "the caller's extractor normalises")
	assert.Equal(t, coco.RouteSLM, r.Route, "three spellings are one answer to it")
	req := slm.Requests()[0]
	assert.Equal(t, 77, req.MaxTokens)
	require.NotNil(t, req.Temperature)
	assert.Equal(t, 0.3, *req.Temperature)

	for _, bad := range []coco.Option{coco.WithSLMMaxTokens(0), coco.WithAnswerExtractor(nil), coco.WithEstimator(nil),
		coco.WithMeter(nil), coco.WithPrices(nil), coco.WithCompressor(nil), coco.WithSketchPrompter(nil),
		coco.WithAligner(nil), coco.WithCompressionRate(nil)} {
		_, err := coco.New(slm, llm, bad)
		assert.Error(t, err)
	}
}
