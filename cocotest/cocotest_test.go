package cocotest_test

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

func ask(prompt string, samples int) coco.Request {
	return coco.Request{Messages: []coco.Message{{Role: coco.RoleSystem, Content: "sys"}, {Role: coco.RoleUser, Content: prompt}}, Samples: samples}
}

func TestModelPrecedence(t *testing.T) {
	t.Parallel()
	m := cocotest.NewModel("m").
		On("apple", cocotest.Answers("A: fruit")).
		On("app", cocotest.Answers("A: software")).
		Default(cocotest.Answers("A: default")).
		Then(cocotest.Answers("A: first"))
	ctx := context.Background()
	for _, tc := range []struct{ prompt, want string }{
		{"apple pie", "A: first"}, // the queue comes first
		{"apple pie", "A: fruit"}, // then rules, in the order added
		{"my app", "A: software"},
		{"sys", "A: default"}, // only the last user message is matched
	} {
		resp, err := m.Generate(ctx, ask(tc.prompt, 1))
		require.NoError(t, err)
		assert.Equal(t, tc.want, resp.Samples[0].Text, tc.prompt)
	}
	assert.Equal(t, 4, m.Calls())
	assert.Equal(t, "my app", m.Requests()[2].Messages[1].Content)
	assert.Equal(t, "m", m.Name())

	_, err := cocotest.NewModel("bare").Generate(ctx, ask("x", 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no reply")
}

func TestModelSamplesLogprobsUsage(t *testing.T) {
	t.Parallel()
	text := "A: 42"
	m := cocotest.NewModel("m").Default(cocotest.Reply{
		Texts:    []string{text, "A: 41", "A: 40"},
		Logprobs: [][]coco.TokenLogprob{cocotest.TokenLogprobs(text, -0.1)},
		Usage:    coco.Usage{InputTokens: 9, OutputTokens: 6},
	})
	ctx := context.Background()
	resp, err := m.Generate(ctx, ask("q", 2))
	require.NoError(t, err)
	require.Len(t, resp.Samples, 2, "the first k texts")
	assert.Nil(t, resp.Samples[0].Logprobs, "logprobs only when asked")
	assert.Equal(t, coco.Usage{InputTokens: 9, OutputTokens: 6}, resp.Usage)

	req := ask("q", 5)
	req.Logprobs = true
	resp, err = m.Generate(ctx, req)
	require.NoError(t, err)
	assert.Len(t, resp.Samples, 3, "all texts when fewer than asked")
	require.NotEmpty(t, resp.Samples[0].Logprobs)
	assert.Nil(t, resp.Samples[1].Logprobs)
}

func TestModelFailsAndStalls(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	ctx := context.Background()
	m := cocotest.NewModel("m").Then(
		cocotest.Fail(boom),
		cocotest.Reply{Err: boom, Usage: coco.Usage{InputTokens: 5}},
		cocotest.Reply{Texts: []string{"late"}, Delay: time.Hour},
		cocotest.Reply{Texts: []string{"soon"}, Delay: time.Millisecond},
	)
	_, err := m.Generate(ctx, ask("q", 1))
	assert.ErrorIs(t, err, boom)
	resp, err := m.Generate(ctx, ask("q", 1))
	assert.ErrorIs(t, err, boom)
	require.NotNil(t, resp, "a billed failure returns its usage")
	assert.Equal(t, 5, resp.Usage.InputTokens)

	short, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = m.Generate(short, ask("q", 1))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Minute, "a stall ends with its context")

	resp, err = m.Generate(ctx, ask("q", 1))
	require.NoError(t, err)
	assert.Equal(t, "soon", resp.Samples[0].Text)
}

func TestModelConcurrent(t *testing.T) {
	t.Parallel()
	m := cocotest.NewModel("m").Default(cocotest.Answers("A: 1"))
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_, err := m.Generate(context.Background(), ask("q", 1))
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 32*50, m.Calls())
}

func TestTokenLogprobsSpellTheText(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "A: 42", "Hello, world!  Two  spaces.", "日本語 テキスト、です。", "emoji 🎉 ok", "a"} {
		toks := cocotest.TokenLogprobs(text, -1)
		var b strings.Builder
		for _, tk := range toks {
			b.WriteString(tk.Token)
			assert.Equal(t, -1.0, tk.Logprob)
		}
		assert.Equal(t, text, b.String())
	}
	assert.Equal(t, []string{"A", ":", " 42"}, tokens(cocotest.TokenLogprobs("A: 42", 0)))
}

func tokens(tl []coco.TokenLogprob) []string {
	out := make([]string, len(tl))
	for i, t := range tl {
		out[i] = t.Token
	}
	return out
}
