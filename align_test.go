package coco_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

func slmAttempt(texts ...string) *coco.Attempt {
	var x coco.StandardAnswers
	a := &coco.Attempt{}
	for _, t := range texts {
		raw := x.Extract(t)
		a.Samples = append(a.Samples, coco.Sample{Text: t})
		a.Raw = append(a.Raw, raw)
		a.Answers = append(a.Answers, x.Normalize(raw))
	}
	return a
}

func TestStepAligner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var al coco.StepAligner

	// Same facts, more words on the SLM's side: all agree, the SLM's detail is kept.
	slm := slmAttempt("Explain: Yesterday was April 30, 2021. So today is May 1, 2021, one day later.\nA: 05/01/2021")
	llm := &coco.Sketch{Steps: []string{"yesterday 04/30/2021", "today 05/01/2021"}, Answer: "05/01/2021", Separated: true}
	a, err := al.Align(ctx, slm, llm)
	require.NoError(t, err)
	require.Len(t, a.Steps, 2)
	for _, s := range a.Steps {
		assert.Equal(t, coco.StepAgree, s.Kind, "%+v", s)
	}
	assert.True(t, a.AnswersAgree)
	assert.Greater(t, a.Score, 0.5)
	assert.Equal(t, "1. Yesterday was April 30, 2021.\n2. So today is May 1, 2021, one day later.\nAnswer: 05/01/2021", a.Rationale)

	// A conflicting fact: the LLM's step wins, and the SLM's own steps stay out
	// because the answers differ.
	slm = slmAttempt("Today is 9/7/2003. Jane likes football.\nOne week ago is 09/02/2003.\nA: 09/02/2003")
	llm = &coco.Sketch{Steps: []string{"today 09/07/2003", "week ago 08/31/2003"}, Answer: "08/31/2003"}
	a, err = al.Align(ctx, slm, llm)
	require.NoError(t, err)
	kinds := map[coco.StepKind]int{}
	for _, s := range a.Steps {
		kinds[s.Kind]++
	}
	assert.Equal(t, 1, kinds[coco.StepAgree], "%+v", a.Steps)
	assert.Equal(t, 1, kinds[coco.StepConflict], "%+v", a.Steps)
	assert.Equal(t, 1, kinds[coco.StepSLMOnly], "%+v", a.Steps)
	assert.False(t, a.AnswersAgree)
	assert.Equal(t, "1. Today is 9/7/2003.\n2. week ago 08/31/2003\nAnswer: 08/31/2003", a.Rationale)
	assert.NotContains(t, a.Rationale, "football", "one-sided SLM steps are dropped when the answers differ")

	// Order is kept: a crossing pair cannot both be matched.
	slm = slmAttempt("Step one has 5 apples.\nStep two has 7 pears.\nA: 12")
	llm = &coco.Sketch{Steps: []string{"7 pears", "5 apples"}, Answer: "12"}
	a, err = al.Align(ctx, slm, llm)
	require.NoError(t, err)
	matched := 0
	for _, s := range a.Steps {
		if s.Kind == coco.StepAgree || s.Kind == coco.StepConflict {
			matched++
		}
	}
	assert.Equal(t, 1, matched)

	// No SLM: the LLM's steps alone.
	a, err = al.Align(ctx, nil, &coco.Sketch{Steps: []string{"2 + 2 = 4"}, Answer: "4"})
	require.NoError(t, err)
	assert.Equal(t, "1. 2 + 2 = 4\nAnswer: 4", a.Rationale)
	assert.Zero(t, a.Score)

	_, err = al.Align(ctx, slm, nil)
	assert.Error(t, err)
}

// TestAlignmentOnSharedTrace measures, on the shared trace, whether the
// alignment score tells agreeing final answers from disagreeing ones, and how
// long the fused rationale is against the LLM's recorded reasoning.
func TestAlignmentOnSharedTrace(t *testing.T) {
	t.Parallel()
	tr := loadSharedTrace(t)
	ctx := context.Background()
	var al coco.StepAligner
	var x coco.StandardAnswers
	var agree, disagree []float64
	fusedTokens, llmTokens := 0, 0
	for _, task := range tr.Tasks {
		sk, err := coco.ParseSketch(task.LLM.Samples[0].Text)
		if err != nil {
			continue
		}
		// The SLM's first chain-of-thought sample that has an answer.
		var slm *coco.Attempt
		for _, s := range task.SLM.Samples[:10] {
			if a := slmAttempt(s.Text); a.Answers[0] != "" {
				slm = a
				break
			}
		}
		if slm == nil {
			continue
		}
		a, err := al.Align(ctx, slm, sk)
		require.NoError(t, err)
		if slm.Answers[0] == x.Normalize(sk.Answer) {
			agree = append(agree, a.Score)
		} else {
			disagree = append(disagree, a.Score)
		}
		n, err := coco.CountTokens("gpt-4-0613", a.Rationale)
		require.NoError(t, err)
		m, err := coco.CountTokens("gpt-4-0613", task.LLM.Samples[0].Text)
		require.NoError(t, err)
		fusedTokens += n
		llmTokens += m
	}
	auc := rocAUC(agree, disagree)
	t.Logf("alignment score, answers agree (n=%d): %s", len(agree), quartiles(agree))
	t.Logf("alignment score, answers differ (n=%d): %s", len(disagree), quartiles(disagree))
	t.Logf("AUC of the score for telling them apart: %.3f", auc)
	t.Logf("fused rationale %d tokens against the LLM's recorded reasoning %d (ratio %.2f)", fusedTokens, llmTokens, float64(fusedTokens)/float64(llmTokens))
	require.NotEmpty(t, agree)
	require.NotEmpty(t, disagree)
	assert.Greater(t, auc, 0.7, "a useful aligner separates agreeing from disagreeing answers")
}

// rocAUC is the probability that a random positive scores above a random
// negative (ties count half).
func rocAUC(pos, neg []float64) float64 {
	wins := 0.0
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				wins++
			case p == n:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(pos)*len(neg))
}

func quartiles(xs []float64) string {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1))] }
	mean := 0.0
	for _, v := range s {
		mean += v
	}
	return fmt.Sprintf("mean %.3f, quartiles %.3f / %.3f / %.3f", mean/float64(len(s)), q(0.25), q(0.5), q(0.75))
}
