package coco_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/cocotest"
)

func attempt(answers ...string) *coco.Attempt {
	a := &coco.Attempt{Answers: answers, Raw: answers, Samples: make([]coco.Sample, len(answers))}
	for i, ans := range answers {
		a.Samples[i] = coco.Sample{Text: "A: " + ans}
	}
	return a
}

func TestAttemptMajority(t *testing.T) {
	t.Parallel()
	ans, n := attempt("5", "6", "6", "", "5").Majority()
	assert.Equal(t, "5", ans, "ties go to the answer seen first")
	assert.Equal(t, 2, n)
	ans, n = attempt("", "").Majority()
	assert.Equal(t, "", ans)
	assert.Zero(t, n)
}

func TestVoteEstimator(t *testing.T) {
	t.Parallel()
	var v coco.VoteEstimator
	score := func(answers ...string) float64 {
		s, ok := v.Estimate(attempt(answers...))
		require.True(t, ok)
		return s
	}
	assert.InDelta(t, 1.0, score("5", "5", "5", "5"), 1.0/8, "unanimity: a share of 1 less a tie-break under 1/(2k)")
	assert.Greater(t, score("5", "5", "5", "5"), score("5", "5", "5", "4"))
	assert.Equal(t, 1.0, score("5"), "one sample with an answer")
	assert.Equal(t, 0.0, score("", "", ""), "no answer at all")

	// 6 of 10 agree: the share is 0.6, less a tie-break below 1/20.
	concentrated := score("a", "a", "a", "a", "a", "a", "b", "b", "b", "b")
	scattered := score("a", "a", "a", "a", "a", "a", "b", "c", "d", "e")
	assert.Greater(t, concentrated, scattered, "scattered minorities mean less confidence")
	for _, s := range []float64{concentrated, scattered} {
		assert.Greater(t, s, 0.55)
		assert.LessOrEqual(t, s, 0.6)
	}
	assert.Greater(t, score("a", "a", "a", "a", "a", "a", "a", "b", "c", "d"), concentrated,
		"the tie-break never reorders different shares")
	assert.Less(t, score("a", "a", "", ""), score("a", "a", "b", "b"), "a missing answer is its own outcome")

	_, ok := v.Estimate(&coco.Attempt{})
	assert.False(t, ok)

	// Same share, longer reasoning to the majority answer: less confident.
	short := attempt("a", "a", "b")
	long := attempt("a", "a", "b")
	long.Samples[0].Text = strings.Repeat("step. ", 100) + "A: a"
	long.Samples[1].Text = strings.Repeat("step. ", 100) + "A: a"
	s, _ := v.Estimate(short)
	l, _ := v.Estimate(long)
	assert.Greater(t, s, l)
	assert.Greater(t, l, 1.0/3, "still above the next share down")
}

func TestLogprobEstimator(t *testing.T) {
	t.Parallel()
	var lp coco.LogprobEstimator
	text := "The sum is 42.\nA: 42"
	sample := func(p float64) coco.Sample {
		return coco.Sample{Text: text, Logprobs: cocotest.TokenLogprobs(text, math.Log(p))}
	}
	a := &coco.Attempt{Samples: []coco.Sample{sample(0.9)}, Answers: []string{"42"}, Raw: []string{"42"}}
	s, ok := lp.Estimate(a)
	require.True(t, ok)
	assert.InDelta(t, 0.9, s, 1e-9)

	// Two samples, one for the majority: a probability-weighted share.
	a = &coco.Attempt{Samples: []coco.Sample{sample(0.8), sample(0.5), {Text: "A: 41"}},
		Answers: []string{"42", "42", "41"}, Raw: []string{"42", "42", "41"}}
	s, ok = lp.Estimate(a)
	require.True(t, ok)
	assert.InDelta(t, (0.8+0.5)/3, s, 1e-9)

	// Only the answer's tokens count.
	toks := cocotest.TokenLogprobs(text, math.Log(0.1))
	toks[len(toks)-1].Logprob = math.Log(0.99) // "42" at the end
	a = &coco.Attempt{Samples: []coco.Sample{{Text: text, Logprobs: toks}}, Answers: []string{"42"}, Raw: []string{"42"}}
	s, _ = lp.Estimate(a)
	assert.InDelta(t, 0.99, s, 1e-9)

	_, ok = lp.Estimate(attempt("42", "42"))
	assert.False(t, ok, "no logprobs, nothing to go on")

	both := coco.DefaultEstimator()
	s, ok = both.Estimate(&coco.Attempt{Samples: []coco.Sample{sample(0.5), sample(0.5)}, Answers: []string{"42", "42"}, Raw: []string{"42", "42"}})
	require.True(t, ok)
	vote2, _ := coco.VoteEstimator{}.Estimate(&coco.Attempt{Samples: []coco.Sample{sample(0.5), sample(0.5)}, Answers: []string{"42", "42"}})
	assert.InDelta(t, (0.5+vote2)/2, s, 1e-9, "mean of logprob (0.5) and vote")
	s, ok = both.Estimate(attempt("42", "42", "41"))
	require.True(t, ok)
	vote, _ := coco.VoteEstimator{}.Estimate(attempt("42", "42", "41"))
	assert.Equal(t, vote, s, "votes alone without logprobs")
}

func TestThresholdRouter(t *testing.T) {
	t.Parallel()
	r := coco.ThresholdRouter{Threshold: 0.7}
	ctx := context.Background()
	d, err := r.Route(ctx, nil, 0.69)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteLLM, d.Route)
	assert.Contains(t, d.Reason, "below")
	d, err = r.Route(ctx, nil, 0.7)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteSLM, d.Route)
	_, err = r.Route(ctx, nil, math.NaN())
	assert.Error(t, err)
}

func TestFrontierAndCalibration(t *testing.T) {
	t.Parallel()
	trace := []coco.Labelled{
		{Confidence: 0.1, SLMCorrect: false, LLMCorrect: true},
		{Confidence: 0.3, SLMCorrect: false, LLMCorrect: true},
		{Confidence: 0.3, SLMCorrect: true, LLMCorrect: true},
		{Confidence: 0.6, SLMCorrect: true, LLMCorrect: false},
		{Confidence: 0.9, SLMCorrect: true, LLMCorrect: true},
	}
	pts, err := coco.Frontier(trace)
	require.NoError(t, err)
	shares := []float64{}
	accs := []float64{}
	for _, p := range pts {
		shares = append(shares, p.LLMShare)
		accs = append(accs, p.Accuracy)
		assert.InDelta(t, 0.8, p.LLMAccuracy, 1e-12)
	}
	assert.Equal(t, []float64{0, 0.2, 0.6, 0.8, 1}, shares, "ties share one fate: 0.3 and 0.3 go together")
	assert.InDeltaSlice(t, []float64{0.6, 0.8, 1.0, 0.8, 0.8}, accs, 1e-12)

	thr, share, err := coco.CalibrateForLoss(trace, 0.0)
	require.NoError(t, err)
	assert.Equal(t, 0.3, thr, "route below 0.3: one task to the LLM already matches LLM-only")
	assert.Equal(t, 0.2, share)
	// Applying the threshold routes what the frontier says.
	r := coco.ThresholdRouter{Threshold: thr}
	sent := 0
	for _, l := range trace {
		d, _ := r.Route(context.Background(), nil, l.Confidence)
		if d.Route == coco.RouteLLM {
			sent++
		}
	}
	assert.Equal(t, 1, sent)

	_, _, err = coco.CalibrateForLoss(nil, 0.01)
	assert.Error(t, err)
	_, err = coco.Frontier([]coco.Labelled{{Confidence: math.NaN()}})
	assert.Error(t, err)
}

func TestCalibrateForShare(t *testing.T) {
	t.Parallel()
	scores := []float64{0.9, 0.1, 0.5, 0.3, 0.7, 0.5, 0.5, 0.2, 0.8, 0.4}
	for _, tc := range []struct {
		share    float64
		wantSent int
	}{{0, 0}, {0.2, 2}, {0.3, 3}, {0.5, 4}, {0.6, 4}, {0.7, 7}, {1, 10}} {
		thr, err := coco.CalibrateForShare(scores, tc.share)
		require.NoError(t, err)
		sent := 0
		for _, s := range scores {
			if s < thr {
				sent++
			}
		}
		assert.Equal(t, tc.wantSent, sent, "share %v: threshold %v", tc.share, thr)
		assert.LessOrEqual(t, float64(sent), tc.share*float64(len(scores)), "never more than asked")
	}
	_, err := coco.CalibrateForShare(nil, 0.5)
	assert.Error(t, err)
	_, err = coco.CalibrateForShare(scores, 1.5)
	assert.Error(t, err)
	_, err = coco.CalibrateForShare([]float64{math.NaN()}, 0.5)
	assert.Error(t, err)
}
