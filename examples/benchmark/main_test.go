package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sharedTrace = "../../../shared/data/mot-date.jsonl"

func TestBenchmarkOnSharedTrace(t *testing.T) {
	if _, err := os.Stat(sharedTrace); errors.Is(err, os.ErrNotExist) {
		t.Skip(sharedTrace + " is absent: the shared evaluation data is not laid out beside this checkout")
	}
	dir := t.TempDir()
	jsonPath, pngPath := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.png")
	require.NoError(t, run(sharedTrace, 10, jsonPath, pngPath, "", 1, false, 0))

	b, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	for _, key := range []string{"dataset", "tasks", "samples", "llm_only", "slm_only", "strategies"} {
		assert.Contains(t, raw, key)
	}
	var rep report
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, 369, rep.Tasks)
	assert.Equal(t, 10, rep.Samples)
	assert.Greater(t, rep.LLMOnly.Accuracy, rep.SLMOnly.Accuracy)
	assert.Positive(t, rep.LLMOnly.LLMCostUSD)

	byName := map[string]strategyReport{}
	for _, s := range rep.Strategies {
		byName[s.Name] = s
		assert.NotEmpty(t, s.Frontier, s.Name)
		assert.InDelta(t, rep.LLMOnly.Accuracy, s.Frontier[len(s.Frontier)-1].Accuracy, 1e-12, "%s: sending all is LLM-only", s.Name)
		assert.InDelta(t, rep.SLMOnly.Accuracy, s.Frontier[0].Accuracy, 1e-12, "%s: sending none is SLM-only", s.Name)
	}
	require.Len(t, byName, 4)
	assert.LessOrEqual(t, byName["coco"].LLMShareAt1pt, byName["vote"].LLMShareAt1pt, "coco must not need more LLM calls than vote")
	assert.LessOrEqual(t, byName["oracle"].LLMShareAt1pt, byName["coco"].LLMShareAt1pt, "nothing beats the oracle")
	assert.Less(t, byName["coco"].LLMShareAt1pt, byName["random"].LLMShareAt1pt)

	png, err := os.ReadFile(pngPath)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))
}

func TestRunNeedsTraces(t *testing.T) {
	t.Parallel()
	assert.Error(t, run("", 10, "", "", "", 1, false, 0))
	assert.Error(t, run("does-not-exist.jsonl", 10, "", "", "", 1, false, 0))
	_, err := parsePrice("0.1")
	assert.Error(t, err)
	p, err := parsePrice("0.10,0.40")
	require.NoError(t, err)
	assert.Equal(t, int64(100_000), int64(p.Input))
}
