package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

func TestEvaluate(t *testing.T) {
	t.Parallel()
	// Four tasks: the SLM is right on two, the LLM on three. Each LLM call
	// costs $1.
	labels := []coco.Labelled{
		{Confidence: 0.2, SLMCorrect: false, LLMCorrect: true, LLMCost: coco.Dollar},
		{Confidence: 0.9, SLMCorrect: true, LLMCorrect: true, LLMCost: coco.Dollar},
		{Confidence: 0.4, SLMCorrect: false, LLMCorrect: false, LLMCost: coco.Dollar},
		{Confidence: 0.7, SLMCorrect: true, LLMCorrect: true, LLMCost: coco.Dollar},
	}
	r, err := evaluate("x", labels, 0.5, 0.75, 4*coco.Dollar)
	require.NoError(t, err)

	// Frontier: share 0 -> 0.5; 0.25 (task 0) -> 0.75; 0.5 -> 0.75; 0.75 -> 0.75; 1 -> 0.75.
	require.Len(t, r.Frontier, 5)
	assert.Equal(t, 0.25, r.LLMShareAt1pt)
	assert.Equal(t, 0.25, r.CostRatioAt1pt)
	require.NotNil(t, r.CPT95)
	assert.Equal(t, 0.25, *r.CPT95)
	// PGR rises from 0 to 1 over [0, 0.25] and stays at 1: area 0.125 + 0.75.
	require.NotNil(t, r.APGR)
	assert.InDelta(t, 0.875, *r.APGR, 1e-12)
	assert.Nil(t, r.Frontier[len(r.Frontier)-1].Threshold, "the send-everything point has no finite threshold")
	assert.Equal(t, 4.0, r.Frontier[len(r.Frontier)-1].LLMCostUSD)

	// Held out: calibrated on tasks 0-1 (threshold 0.9 sends task 0 only),
	// applied to tasks 2-3: 0.4 < 0.9 and 0.7 < 0.9 go to the LLM.
	require.NotNil(t, r.Heldout.Threshold)
	assert.Equal(t, 0.9, *r.Heldout.Threshold)
	assert.Equal(t, 1.0, r.Heldout.LLMShare)
	assert.Equal(t, 0.5, r.Heldout.Accuracy)
}

func TestEvaluateNoGap(t *testing.T) {
	t.Parallel()
	labels := []coco.Labelled{{Confidence: 1, SLMCorrect: true, LLMCorrect: true}, {Confidence: 0, SLMCorrect: true, LLMCorrect: false}}
	r, err := evaluate("x", labels, 1, 0.5, 0)
	require.NoError(t, err)
	assert.Nil(t, r.CPT95)
	assert.Nil(t, r.APGR)
	assert.Equal(t, 0.0, r.LLMShareAt1pt)
	assert.False(t, math.IsNaN(r.CostRatioAt1pt))
}
