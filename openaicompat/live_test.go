package openaicompat_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/openaicompat"
	"github.com/coco-llm/coco/replay"
)

// liveModels returns the models of the COCO_* environment variables, or skips.
func liveModels(t *testing.T) (slm, llm *openaicompat.Model) {
	t.Helper()
	slm, llm, ok, err := openaicompat.ModelsFromEnv()
	require.NoError(t, err)
	if !ok {
		t.Skip("live test: set COCO_SLM_MODEL, COCO_LLM_MODEL and COCO_BASE_URL (or COCO_SLM_BASE_URL and COCO_LLM_BASE_URL), and the API keys, to run it")
	}
	return slm, llm
}

// TestLiveLogprobs asks the SLM endpoint for samples with logprobs and checks
// that the logprob estimator can read them.
func TestLiveLogprobs(t *testing.T) {
	slm, _ := liveModels(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	temp := 0.7
	resp, err := slm.Generate(ctx, coco.Request{Messages: []coco.Message{
		{Role: coco.RoleSystem, Content: "Answer with the number only, as \"A: <number>\"."},
		{Role: coco.RoleUser, Content: "What is 17 + 25?"},
	}, MaxTokens: 16, Samples: 3, Temperature: &temp, Logprobs: true})
	require.NoError(t, err)
	var x coco.StandardAnswers
	a := &coco.Attempt{Samples: resp.Samples}
	for _, s := range resp.Samples {
		raw := x.Extract(s.Text)
		a.Raw, a.Answers = append(a.Raw, raw), append(a.Answers, x.Normalize(raw))
	}
	p, ok := coco.LogprobEstimator{}.Estimate(a)
	t.Logf("%d samples %q; usage %+v; logprob confidence %.3f (available %v)", len(resp.Samples), a.Answers, resp.Usage, p, ok)
}

// TestLiveSketchVsFull asks the LLM endpoint N questions of the shared trace
// (COCO_LIVE_N, default 10) in sketch and in full chain-of-thought mode, and
// prints output tokens and accuracy side by side.
func TestLiveSketchVsFull(t *testing.T) {
	_, llm := liveModels(t)
	const path = "../../shared/data/mot-date.jsonl"
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Skip(path + " is absent")
	}
	trace, err := replay.Load(path)
	require.NoError(t, err)
	n := 10
	if v, err := strconv.Atoi(os.Getenv("COCO_LIVE_N")); err == nil && v > 0 {
		n = min(v, len(trace.Tasks))
	}
	var x coco.StandardAnswers
	for _, mode := range []struct {
		name string
		p    coco.SketchPrompter
	}{{"sketch", coco.SketchPrompt{}}, {"full", coco.FullPrompter{}}} {
		out, in, right, parsed := 0, 0, 0, 0
		for _, task := range trace.Tasks[:n] {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			resp, err := llm.Generate(ctx, mode.p.Prompt(task.Question, nil))
			cancel()
			require.NoError(t, err)
			in += resp.Usage.InputTokens
			out += resp.Usage.OutputTokens
			sk, err := mode.p.Parse(resp.Samples[0].Text)
			if err != nil {
				continue
			}
			parsed++
			if x.Normalize(sk.Answer) == x.Normalize(task.Gold) {
				right++
			}
		}
		t.Logf("%-6s %d questions: %5d input tokens, %5d output tokens (%.1f a question), %d parsed, accuracy %.3f",
			mode.name, n, in, out, float64(out)/float64(n), parsed, float64(right)/float64(n))
	}
}
