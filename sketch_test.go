package coco_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/replay"
)

func TestSketchPrompt(t *testing.T) {
	t.Parallel()
	var p coco.SketchPrompt
	req := p.Prompt("How many legs do 3 spiders have?", nil)
	require.GreaterOrEqual(t, len(req.Messages), 2)
	sys := req.Messages[0]
	assert.Equal(t, coco.RoleSystem, sys.Role)
	assert.Contains(t, sys.Content, "at most 5 words a step")
	assert.Contains(t, sys.Content, "at most 8 steps")
	assert.Contains(t, sys.Content, "####")
	assert.Equal(t, 8*(5*4+4)+48, req.MaxTokens)
	assert.Equal(t, p.MaxTokens(), req.MaxTokens)
	assert.Len(t, req.Messages, 2+2*len(coco.DefaultSketchExamples), "system, examples as turns, task")
	assert.Equal(t, coco.RoleAssistant, req.Messages[2].Role)
	assert.Contains(t, req.Messages[2].Content, "\n####\n")
	last := req.Messages[len(req.Messages)-1]
	assert.Equal(t, "How many legs do 3 spiders have?", last.Content)

	tight := coco.SketchPrompt{WordsPerStep: 3, MaxSteps: 2, Examples: []coco.SketchExample{}, ShowDraft: true}
	draft := &coco.Attempt{Answers: []string{"24", "24", "18"}}
	req = tight.Prompt("How many legs do 3 spiders have?", draft)
	assert.Len(t, req.Messages, 2, "an empty example list means zero-shot")
	assert.Equal(t, 2*(3*4+4)+48, req.MaxTokens)
	assert.Contains(t, req.Messages[1].Content, `"24"`, "the SLM's draft is shown when asked")

	full := coco.FullPrompter{}.Prompt("q", nil)
	assert.Equal(t, 1024, full.MaxTokens)
	assert.Contains(t, full.Messages[0].Content, "full sentences")
}

func TestParseSketch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		text      string
		steps     []string
		answer    string
		separated bool
	}{
		{"separator", "14 x 12 = 168\n168 - 20 = 148\n####\n148", []string{"14 x 12 = 168", "168 - 20 = 148"}, "148", true},
		{"separator, same line", "3 x 8 = 24\n#### 24", []string{"3 x 8 = 24"}, "24", true},
		{"Answer: instead", "Born 02/28/2001.\nBirthday 02/28/2017.\nAnswer: 02/27/2017", []string{"Born 02/28/2001.", "Birthday 02/28/2017."}, "02/27/2017", false},
		{"markdown and numbered steps", "**Steps**\n1. **Today** is 05/01/2021\n2) minus 7 days\n- so 04/24/2021\n\n**Answer:** 04/24/2021",
			[]string{"Steps", "Today is 05/01/2021", "minus 7 days", "so 04/24/2021"}, "04/24/2021", false},
		{"Step n:", "Step 1: 72 eggs\nStep 2: 72 - 4 = 68\n####\n34", []string{"72 eggs", "72 - 4 = 68"}, "34", true},
		{"prose is split into sentences", "Explain: Yesterday was April 30, 2021. Today is May 1, 2021. It costs $2.50 now.\nA: 05/01/2021",
			[]string{"Yesterday was April 30, 2021.", "Today is May 1, 2021.", "It costs $2.50 now."}, "05/01/2021", false},
		{"code block", "```python\n# today is 04/30/2021\ntoday = date(2021, 4, 30)\nans = today.strftime('%m/%d/%Y')\n```\n####\n04/30/2021",
			[]string{"today is 04/30/2021", "today = date(2021, 4, 30)", "ans = today.strftime('%m/%d/%Y')"}, "04/30/2021", true},
		{"trailing chatter", "6 x 7 = 42\n####\n42\n\nLet me know if you need anything else!", []string{"6 x 7 = 42"}, "42", true},
		{"invented next question", "Today is 05/01/2021.\nA: 05/01/2021\n\nQ: What is 2+2?\nA: 4", []string{"Today is 05/01/2021.", "A: 05/01/2021", "Q: What is 2+2?"}, "4", false},
		{"boxed", "So x = 3 + 4.\n\\boxed{7}", []string{"So x = 3 + 4."}, "7", false},
		{"trailing number", "Half of 68 is 34", []string{"Half of 68 is"}, "34", false},
		{"e.g. stays inside", "Use units, e.g. Meters here. Then 5 m.\n#### 5", []string{"Use units, e.g. Meters here.", "Then 5 m."}, "5", true},
	} {
		s, err := coco.ParseSketch(tc.text)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.steps, s.Steps, tc.name)
		assert.Equal(t, tc.answer, s.Answer, tc.name)
		assert.Equal(t, tc.separated, s.Separated, tc.name)
	}
	for _, text := range []string{"", "   \n", "I am not sure about this one.", "####\n\n", "A:"} {
		_, err := coco.ParseSketch(text)
		assert.True(t, errors.Is(err, coco.ErrNoAnswer), "%q: %v", text, err)
	}
}

func TestParseSketchOnSharedTrace(t *testing.T) {
	t.Parallel()
	tr := loadSharedTrace(t)
	var x coco.StandardAnswers
	for _, side := range []string{"slm-cot", "slm-pot", "llm"} {
		total, parsed, sameAnswer, withSteps := 0, 0, 0, 0
		for _, task := range tr.Tasks {
			samples := task.LLM.Samples
			if side != "llm" {
				samples = task.SLM.Samples
			}
			for _, s := range samples {
				if side == "slm-cot" && s.Style != "cot" || side == "slm-pot" && s.Style != "pot" {
					continue
				}
				if s.Answer == "" {
					continue // the recorded run found no answer either
				}
				total++
				sk, err := coco.ParseSketch(replay.SampleText(s))
				if err != nil {
					continue
				}
				parsed++
				if x.Normalize(sk.Answer) == x.Normalize(s.Answer) {
					sameAnswer++
				}
				if len(sk.Steps) > 0 {
					withSteps++
				}
			}
		}
		t.Logf("%s: %d texts with a recorded answer; parsed %d, same answer %d, with steps %d", side, total, parsed, sameAnswer, withSteps)
		require.Positive(t, total)
		assert.GreaterOrEqual(t, float64(sameAnswer)/float64(total), 0.99, side)
		assert.GreaterOrEqual(t, float64(withSteps)/float64(total), 0.95, side)
	}
}

func loadSharedTrace(t testing.TB) *replay.Trace {
	t.Helper()
	const path = "../shared/data/mot-date.jsonl"
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Skip(path + " is absent: the shared evaluation data is not laid out beside this checkout")
	}
	tr, err := replay.Load(path)
	require.NoError(t, err)
	return tr
}

func FuzzParseSketch(f *testing.F) {
	for _, s := range []string{"\xff. A\n#### 1", "1 + 1 = 2\n####\n2", "```\nx = 1\n```\nAnswer: 1", "- a\n- b\n\\boxed{c}", "Q. A. B? C! 1. 2.", "####", "日本。\n答え: 3\nA: 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := coco.ParseSketch(text)
		if err != nil {
			if !errors.Is(err, coco.ErrNoAnswer) {
				t.Fatalf("error not wrapping ErrNoAnswer: %v", err)
			}
			return
		}
		if s.Answer == "" {
			t.Fatal("a parsed sketch without an answer")
		}
		for _, step := range s.Steps {
			if strings.TrimSpace(step) == "" {
				t.Fatalf("blank step in %q", text)
			}
			if utf8.ValidString(text) && !utf8.ValidString(step) {
				t.Fatalf("step %q splits a rune of %q", step, text)
			}
		}
	})
}
