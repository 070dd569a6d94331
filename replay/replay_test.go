package replay_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/replay"
)

const sharedTrace = "../../shared/data/mot-date.jsonl"

func loadShared(t testing.TB) *replay.Trace {
	t.Helper()
	if _, err := os.Stat(sharedTrace); errors.Is(err, os.ErrNotExist) {
		t.Skip(sharedTrace + " is absent: the shared evaluation data is not laid out beside this checkout")
	}
	tr, err := replay.Load(sharedTrace)
	require.NoError(t, err)
	return tr
}

const tiny = `{"id": "t1", "dataset": "x", "question": "What is 2+2?", "gold": "4", "slm": {"model": "llama3.2:3b", "samples": [{"style": "cot", "text": "2+2=4\nA: 4", "answer": "4"}, {"style": "pot", "text": "ans = 2+2", "answer": "4"}, {"style": "cot", "text": "A: 5", "answer": "5"}]}, "llm": {"model": "gpt-4o", "samples": [{"style": "cot", "text": "A: 4", "answer": "4"}]}}

{"id": "t2", "dataset": "x", "question": "What is 2+3?", "gold": "5", "slm": {"model": "llama3.2:3b", "samples": [{"style": "cot", "text": "A: 5", "answer": "5"}]}, "llm": {"model": "gpt-4o", "samples": [{"style": "cot", "text": "A: 5", "answer": "5"}]}}
`

func TestReplayModel(t *testing.T) {
	t.Parallel()
	tr, err := replay.Read(strings.NewReader(tiny))
	require.NoError(t, err)
	require.Len(t, tr.Tasks, 2)
	slm := tr.SLM()
	assert.Equal(t, "llama3.2:3b", slm.Name())
	ctx := context.Background()

	req := coco.Request{Messages: []coco.Message{{Role: coco.RoleSystem, Content: "Be brief."}, {Role: coco.RoleUser, Content: "What is 2+2?"}}, Samples: 2}
	resp, err := slm.Generate(ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.Samples, 2, "the first k samples in file order")
	assert.Equal(t, "2+2=4\nA: 4", resp.Samples[0].Text)
	assert.Equal(t, "ans = 2+2\nA: 4", resp.Samples[1].Text, "a program's recorded result is appended")
	in, err := (&coco.TokenCounter{}).CountChat("llama3.2:3b", req.Messages)
	require.NoError(t, err)
	assert.Equal(t, in.Tokens, resp.Usage.InputTokens, "input counted once from the real prompt")
	assert.Positive(t, resp.Usage.OutputTokens)
	assert.True(t, resp.Usage.Estimated, "llama has no exact local tokenizer")

	req.Samples = 10
	resp, err = slm.Generate(ctx, req)
	require.NoError(t, err)
	assert.Len(t, resp.Samples, 3, "all recorded samples when fewer than asked")

	// The question may be embedded in a longer prompt.
	llmResp, err := tr.LLM().Generate(ctx, coco.Request{Messages: []coco.Message{{Role: coco.RoleUser, Content: "Question: What is 2+3? Think."}}})
	require.NoError(t, err)
	assert.Equal(t, "A: 5", llmResp.Samples[0].Text)
	assert.False(t, llmResp.Usage.Estimated, "gpt-4o is counted exactly")

	_, err = slm.Generate(ctx, coco.Request{Messages: []coco.Message{{Role: coco.RoleUser, Content: "secret unknown question"}}})
	assert.True(t, errors.Is(err, replay.ErrUnknownTask))
	assert.NotContains(t, err.Error(), "secret")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = slm.Generate(cancelled, req)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	good := `{"id": "a", "question": "q1", "slm": {"model": "s", "samples": [{"style": "cot", "text": "A: 1"}]}, "llm": {"model": "l", "samples": [{"text": "A: 1"}]}}`
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "no task"},
		{"bad json", good + "\n{oops", "line 2"},
		{"no question", `{"id": "b", "slm": {"model": "s", "samples": [{"text": "x"}]}, "llm": {"model": "l", "samples": [{"text": "x"}]}}`, "no question"},
		{"no slm samples", `{"id": "b", "question": "q", "slm": {"model": "s", "samples": []}, "llm": {"model": "l", "samples": [{"text": "x"}]}}`, "no SLM sample"},
		{"no llm samples", `{"id": "b", "question": "q", "slm": {"model": "s", "samples": [{"text": "x"}]}, "llm": {"model": "l"}}`, "no LLM sample"},
		{"no model", `{"id": "b", "question": "q", "slm": {"samples": [{"text": "x"}]}, "llm": {"model": "l", "samples": [{"text": "x"}]}}`, "no model name"},
		{"bad style", `{"id": "b", "question": "q", "slm": {"model": "s", "samples": [{"style": "xyz", "text": "x"}]}, "llm": {"model": "l", "samples": [{"text": "x"}]}}`, "unknown sample style"},
		{"duplicate", good + "\n" + strings.Replace(good, `"id": "a"`, `"id": "b"`, 1), "same question as task a"},
	} {
		_, err := replay.Read(strings.NewReader(tc.in))
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.want, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "replay: "), tc.name)
	}
	_, err := replay.Load("testdata/does-not-exist.jsonl")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSharedTraceExtraction(t *testing.T) {
	t.Parallel()
	tr := loadShared(t)
	// The default extractor, run on the recorded texts, must find the answers
	// the trace's authors recorded (compared in normal form: the recorded
	// "may 2, 2021" is the date 05/02/2021).
	var x coco.StandardAnswers
	agree, total := 0, 0
	var mismatches []string
	for _, task := range tr.Tasks {
		for _, side := range []replay.Side{task.SLM, task.LLM} {
			for _, s := range side.Samples {
				got := x.Normalize(x.Extract(replay.SampleText(s)))
				total++
				if got == x.Normalize(s.Answer) {
					agree++
				} else if len(mismatches) < 12 {
					mismatches = append(mismatches, task.ID+": recorded "+s.Answer+", extracted "+got)
				}
			}
		}
	}
	share := float64(agree) / float64(total)
	t.Logf("extractor agrees with the recorded answer on %d of %d samples (%.4f); e.g. %v", agree, total, share, mismatches)
	assert.GreaterOrEqual(t, share, 0.99)
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(tiny))
	f.Add([]byte(`{"question": "q", "slm": {"model": "s", "samples": [{"text": "x"}]}, "llm": {"model": "l", "samples": [{"text": "y"}]}}`))
	f.Add([]byte("{}\n[]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := replay.Read(strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "replay: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		for i := range tr.Tasks {
			task, err := tr.Find(tr.Tasks[i].Question)
			if err != nil || task.Question != tr.Tasks[i].Question {
				t.Fatalf("task %d cannot be found by its own question", i)
			}
		}
	})
}
