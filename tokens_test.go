package coco_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

// cookbookMessages is OpenAI's token-counting example (the corporate-jargon
// translator), which counts 129 prompt tokens on gpt-4-0613 and 124 on gpt-4o.
var cookbookMessages = []coco.Message{
	{Role: coco.RoleSystem, Content: "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
	{Role: coco.RoleSystem, Name: "example_user", Content: "New synergies will help drive top-line growth."},
	{Role: coco.RoleSystem, Name: "example_assistant", Content: "Things working well together will increase revenue."},
	{Role: coco.RoleSystem, Name: "example_user", Content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
	{Role: coco.RoleSystem, Name: "example_assistant", Content: "Let's talk later when we're less busy about how to do better."},
	{Role: coco.RoleUser, Content: "This late pivot means we don't have time to boil the ocean for the client deliverable."},
}

func TestCountChatTokensCookbook(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		model string
		want  int
	}{
		{"gpt-3.5-turbo", 129},
		{"gpt-4-0613", 129},
		{"gpt-4", 129},
		{"gpt-4o", 124},
		{"gpt-4o-mini", 124},
		{"openai/gpt-4o-2024-08-06", 124},
	} {
		t.Run(tc.model, func(t *testing.T) {
			t.Parallel()
			n, err := coco.CountChatTokens(tc.model, cookbookMessages)
			require.NoError(t, err)
			assert.Equal(t, tc.want, n)
		})
	}
}

func TestCountTokensGoldenVectors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		model, text string
		want        int
	}{
		{"gpt-4-0613", "hello world", 2},
		{"gpt-4o", "hello world", 2},
		{"gpt-3.5-turbo", "tiktoken is great!", 6},
		{"gpt-4o", "", 0},
		{"gpt-4", "<|endoftext|>", 7}, // special-token text counts as plain text
	} {
		n, err := coco.CountTokens(tc.model, tc.text)
		require.NoError(t, err)
		assert.Equal(t, tc.want, n, "%s %q", tc.model, tc.text)
	}
}

func TestEncodingTokenIDs(t *testing.T) {
	t.Parallel()
	// The token counts above would also match a wrong vocabulary of the same
	// granularity; the encodings are told apart by what they tokenize
	// differently. " indivisible" is one o200k token and more in cl100k.
	cl, err := coco.Encoding(coco.EncodingCL100K)
	require.NoError(t, err)
	o2, err := coco.Encoding(coco.EncodingO200K)
	require.NoError(t, err)
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20) + "日本語のテキスト、数字 12345。"
	assert.NotEqual(t, cl.CountTokens(text), o2.CountTokens(text), "cl100k and o200k must differ on mixed text")

	again, err := coco.Encoding(coco.EncodingCL100K)
	require.NoError(t, err)
	assert.Same(t, cl, again, "an encoding is built once and shared")

	_, err = coco.Encoding("gpt2-bogus")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "coco: ")
}

func TestEncodingForModel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		model string
		want  string
		ok    bool
	}{
		{"gpt-4o", coco.EncodingO200K, true},
		{"gpt-4o-mini-2024-07-18", coco.EncodingO200K, true},
		{"chatgpt-4o-latest", coco.EncodingO200K, true},
		{"gpt-4.1-nano", coco.EncodingO200K, true},
		{"gpt-5", coco.EncodingO200K, true},
		{"o1", coco.EncodingO200K, true},
		{"o1-mini", coco.EncodingO200K, true},
		{"o3-2025-04-16", coco.EncodingO200K, true},
		{"o4-mini", coco.EncodingO200K, true},
		{"openai/gpt-4o", coco.EncodingO200K, true},
		{"ft:gpt-4o-mini-2024-07-18:acme::abc", coco.EncodingO200K, true},
		{"GPT-4O", coco.EncodingO200K, true},
		{"gpt-4", coco.EncodingCL100K, true},
		{"gpt-4-0613", coco.EncodingCL100K, true},
		{"gpt-4-turbo", coco.EncodingCL100K, true},
		{"gpt-3.5-turbo", coco.EncodingCL100K, true},
		{"text-embedding-3-small", coco.EncodingCL100K, true},
		{"o3mini-local", "", false},
		{"claude-sonnet-4-5", "", false},
		{"llama3.2:3b", "", false},
		{"qwen2.5", "", false},
		{"", "", false},
	} {
		enc, ok := coco.EncodingForModel(tc.model)
		assert.Equal(t, tc.ok, ok, tc.model)
		assert.Equal(t, tc.want, enc, tc.model)
	}
}

func TestTokenCounterMarksEstimates(t *testing.T) {
	t.Parallel()
	var c coco.TokenCounter
	exact, err := c.Count("gpt-4o", "hello world")
	require.NoError(t, err)
	assert.False(t, exact.Estimated)

	approx, err := c.Count("claude-haiku-4-5", "hello world")
	require.NoError(t, err)
	assert.True(t, approx.Estimated, "a family without its own tokenizer is an estimate")
	assert.Equal(t, 2, approx.Tokens)

	chat, err := c.CountChat("llama3.2:3b", cookbookMessages)
	require.NoError(t, err)
	assert.True(t, chat.Estimated)
	assert.Equal(t, 129, chat.Tokens, "the default approximation is cl100k_base with OpenAI's chat rule")

	words := coco.TokenizerFunc(func(s string) int { return len(strings.Fields(s)) })
	custom := coco.TokenCounter{Fallback: func(model string) (coco.Tokenizer, bool) {
		if strings.HasPrefix(model, "llama") {
			return words, true
		}
		return nil, false
	}}
	n, err := custom.Count("llama3.2", "one two three")
	require.NoError(t, err)
	assert.Equal(t, coco.TokenCount{Tokens: 3}, n, "a caller's exact tokenizer is not an estimate")
	n, err = custom.Count("mistral", "one two three")
	require.NoError(t, err)
	assert.True(t, n.Estimated, "a nil tokenizer from Fallback means the approximation")
}

func TestCountTokensGPT35_0301Rule(t *testing.T) {
	t.Parallel()
	// gpt-3.5-turbo-0301 counts 4 a message and -1 a name: 6 messages and 4
	// names give 6 - 4 - 4 = -2 tokens against the current rule.
	n, err := coco.CountChatTokens("gpt-3.5-turbo-0301", cookbookMessages)
	require.NoError(t, err)
	assert.Equal(t, 127, n)
}

func TestCountTokensConcurrent(t *testing.T) {
	t.Parallel()
	want, err := coco.CountTokens("gpt-4o", prompt1000)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				n, err := coco.CountTokens("gpt-4o", prompt1000)
				assert.NoError(t, err)
				assert.Equal(t, want, n)
			}
		}()
	}
	wg.Wait()
}

// prompt1000 is an English prompt of about 1,000 tokens.
var prompt1000 = func() string {
	const para = "A train leaves Zurich at 3:40 pm and takes 95 minutes to reach Milan, " +
		"where the passengers change to a regional line that stops at every village along the lake. " +
		"The timetable was revised on 12 March 2024, and the fares rose by 4.5 percent. "
	return strings.Repeat(para, 17)
}()

func TestPrompt1000Size(t *testing.T) {
	t.Parallel()
	n, err := coco.CountTokens("gpt-4o", prompt1000)
	require.NoError(t, err)
	assert.InDelta(t, 1000, n, 60, "the benchmark's prompt should be about 1,000 tokens")
}

func BenchmarkCountTokens1000(b *testing.B) {
	for _, model := range []string{"gpt-4o", "gpt-4-0613"} {
		b.Run(model, func(b *testing.B) {
			if _, err := coco.CountTokens(model, "warm up"); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(prompt1000)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := coco.CountTokens(model, prompt1000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCountChatTokens1000(b *testing.B) {
	msgs := []coco.Message{{Role: coco.RoleSystem, Content: "You answer briefly."}, {Role: coco.RoleUser, Content: prompt1000}}
	if _, err := coco.CountChatTokens("gpt-4o", msgs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := coco.CountChatTokens("gpt-4o", msgs); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCountTokensLongRuns(t *testing.T) {
	t.Parallel()
	// Counting once installs coco's offline BPE loader (synchronised by its
	// sync.Once) before tiktoken is used directly here.
	_, err := coco.CountTokens("gpt-4", "x")
	require.NoError(t, err)
	enc, err := tiktoken.GetEncoding("cl100k_base")
	require.NoError(t, err)
	for _, text := range []string{
		strings.Repeat("ab", 1000),
		"prefix " + strings.Repeat("東京", 300) + " suffix",
		strings.Repeat("x", 129),
		"https://example.com/" + strings.Repeat("very-long-path-segment/", 20),
	} {
		exact := len(enc.EncodeOrdinary(text))
		got, err := coco.CountTokens("gpt-4", text)
		require.NoError(t, err)
		assert.InDelta(t, exact, got, float64(exact)*0.05+2, "a long run is counted in pieces, close to exact")
	}
	// Ordinary text has no long run: the count is exact.
	exact := len(enc.EncodeOrdinary(prompt1000))
	got, err := coco.CountTokens("gpt-4", prompt1000)
	require.NoError(t, err)
	assert.Equal(t, exact, got)
}

// BenchmarkCountTokensHostile counts 64 KB without a space: quadratic in
// tiktoken itself, linear here.
func BenchmarkCountTokensHostile(b *testing.B) {
	text := strings.Repeat("\xdc", 64<<10)
	if _, err := coco.CountTokens("gpt-4o", "warm up"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := coco.CountTokens("gpt-4o", text); err != nil {
			b.Fatal(err)
		}
	}
}
