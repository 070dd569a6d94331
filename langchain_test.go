package coco_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/cocotest"
)

// fakeLC is a langchaingo model that answers with choices, each carrying info,
// and counts its calls. Unlike llms/fake it is safe for concurrent use.
type fakeLC struct {
	calls   atomic.Int64
	choices func(n int) []*llms.ContentChoice
	err     error
	mu      sync.Mutex
	opts    []llms.CallOptions
}

func (f *fakeLC) GenerateContent(ctx context.Context, msgs []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	f.calls.Add(1)
	var o llms.CallOptions
	for _, opt := range options {
		opt(&o)
	}
	f.mu.Lock()
	f.opts = append(f.opts, o)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return &llms.ContentResponse{Choices: f.choices(max(o.N, 1))}, nil
}

func (f *fakeLC) Call(ctx context.Context, prompt string, options ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, f, prompt, options...)
}

func TestFromLangchainUsageKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider string
		info     map[string]any
		want     coco.Usage
	}{
		{"openai", map[string]any{"PromptTokens": 120, "CompletionTokens": 40, "ReasoningTokens": 10, "PromptCachedTokens": 64}, coco.Usage{InputTokens: 120, CachedInputTokens: 64, OutputTokens: 40, ReasoningTokens: 10}},
		{"ollama", map[string]any{"PromptTokens": 30, "CompletionTokens": 12, "TotalTokens": 42}, coco.Usage{InputTokens: 30, OutputTokens: 12}},
		{"anthropic", map[string]any{"InputTokens": 20, "OutputTokens": 9, "CacheReadInputTokens": 100, "CacheCreationInputTokens": 5}, coco.Usage{InputTokens: 125, CachedInputTokens: 100, CacheWriteTokens: 5, OutputTokens: 9}},
		{"googleai", map[string]any{"PromptTokens": int32(17), "CompletionTokens": int32(4), "input_tokens": int32(17), "output_tokens": int32(4)}, coco.Usage{InputTokens: 17, OutputTokens: 4}},
		{"vertex", map[string]any{"input_tokens": int64(8), "output_tokens": int64(3)}, coco.Usage{InputTokens: 8, OutputTokens: 3}},
		{"none", map[string]any{}, coco.Usage{}},
	} {
		f := &fakeLC{choices: func(int) []*llms.ContentChoice {
			return []*llms.ContentChoice{{Content: "A: 1", GenerationInfo: tc.info}}
		}}
		resp, err := coco.FromLangchain(f, "gpt-4o").Generate(context.Background(), userRequest("hi", 10))
		require.NoError(t, err, tc.provider)
		assert.Equal(t, tc.want, resp.Usage, tc.provider)
	}
}

func TestFromLangchainSamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	usage := map[string]any{"PromptTokens": 50, "CompletionTokens": 30}

	// A provider that honours n copies the whole usage into every choice:
	// it is read once, never summed.
	withN := &fakeLC{choices: func(n int) []*llms.ContentChoice {
		out := make([]*llms.ContentChoice, n)
		for i := range out {
			out[i] = &llms.ContentChoice{Content: fmt.Sprintf("A: %d", i), GenerationInfo: usage}
		}
		return out
	}}
	req := userRequest("hi", 10)
	req.Samples = 4
	resp, err := coco.FromLangchain(withN, "gpt-4o").Generate(ctx, req)
	require.NoError(t, err)
	assert.Len(t, resp.Samples, 4)
	assert.Equal(t, coco.Usage{InputTokens: 50, OutputTokens: 30}, resp.Usage)
	assert.Equal(t, int64(1), withN.calls.Load(), "one call with n=4")
	assert.Equal(t, 4, withN.opts[0].N)
	assert.Equal(t, 10, withN.opts[0].MaxTokens)

	// A provider that ignores n gets the missing samples by concurrent calls,
	// whose usages add up.
	single := &fakeLC{choices: func(int) []*llms.ContentChoice {
		return []*llms.ContentChoice{{Content: "A: 1", GenerationInfo: usage}}
	}}
	resp, err = coco.FromLangchain(single, "llama3.2:3b").Generate(ctx, req)
	require.NoError(t, err)
	assert.Len(t, resp.Samples, 4)
	assert.Equal(t, coco.Usage{InputTokens: 200, OutputTokens: 120}, resp.Usage)
	assert.Equal(t, int64(4), single.calls.Load())
}

func TestFromLangchainErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	empty := &fakeLC{choices: func(int) []*llms.ContentChoice { return []*llms.ContentChoice{{Content: ""}} }}
	_, err := coco.FromLangchain(empty, "m").Generate(ctx, userRequest("hi", 10))
	assert.ErrorIs(t, err, coco.ErrBadResponse)

	limited := &fakeLC{err: &llms.Error{Code: llms.ErrCodeRateLimit, Message: "slow down"}}
	_, err = coco.FromLangchain(limited, "m").Generate(ctx, userRequest("hi", 10))
	var pe *coco.ProviderError
	require.True(t, errors.As(err, &pe))
	assert.ErrorIs(t, err, coco.ErrRateLimited)
	assert.True(t, pe.Retryable())
}

// ollamaServer speaks Ollama's /api/chat: NDJSON lines, the last with done.
func ollamaServer(t *testing.T, handle func(w http.ResponseWriter, calls int64)) *httptest.Server {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/chat" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			Model    string `json:"model"`
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Model == "" || len(body.Messages) == 0 {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		handle(w, calls.Add(1))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func streamOK(w http.ResponseWriter, calls int64) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, chunk := range []string{"3:40 + 1:35", " = 5:15 pm.\n", "A: 5:15 pm"} {
		fmt.Fprintf(w, `{"model":"llama3.2:3b","message":{"role":"assistant","content":%q},"done":false}`+"\n", chunk)
	}
	fmt.Fprintf(w, `{"model":"llama3.2:3b","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":31,"eval_count":%d}`+"\n", 10+calls)
}

func newOllama(t *testing.T, url string) llms.Model {
	t.Helper()
	client := &http.Client{Transport: coco.ObserveHTTP(nil), Timeout: 10 * time.Second}
	m, err := ollama.New(ollama.WithServerURL(url), ollama.WithModel("llama3.2:3b"), ollama.WithHTTPClient(client))
	require.NoError(t, err)
	return m
}

func TestFromLangchainOllamaWire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := ollamaServer(t, streamOK)
	m := coco.FromLangchain(newOllama(t, srv.URL), "llama3.2:3b")
	req := userRequest("A train leaves at 3:40 pm and takes 95 minutes.", 64)
	req.Samples = 3
	resp, err := m.Generate(ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.Samples, 3, "Ollama ignores n: three calls")
	assert.Equal(t, "3:40 + 1:35 = 5:15 pm.\nA: 5:15 pm", resp.Samples[0].Text)
	assert.Equal(t, 3*31, resp.Usage.InputTokens)
	assert.Equal(t, 11+12+13, resp.Usage.OutputTokens, "each call's own usage, summed")

	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter, calls int64)
		is     error
		status int
		retry  time.Duration
	}{
		{"401", func(w http.ResponseWriter, _ int64) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"unauthorized"}`+"\n")
		}, coco.ErrUnauthorized, 401, 0},
		{"429 with Retry-After", func(w http.ResponseWriter, _ int64) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"too many requests"}`+"\n")
		}, coco.ErrRateLimited, 429, 7 * time.Second},
		{"500", func(w http.ResponseWriter, _ int64) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":"model crashed"}`+"\n")
		}, coco.ErrProviderUnavailable, 500, 0},
		{"malformed JSON", func(w http.ResponseWriter, _ int64) {
			io.WriteString(w, `{"model":"llama3.2:3b","message":{"role":"assist`+"\n")
		}, coco.ErrBadResponse, 0, 0},
		{"truncated stream", func(w http.ResponseWriter, _ int64) {
			io.WriteString(w, `{"model":"llama3.2:3b","message":{"role":"assistant","content":"3:40 +"},"done":false}`+"\n")
		}, coco.ErrBadResponse, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ollamaServer(t, tc.handle)
			_, err := coco.FromLangchain(newOllama(t, srv.URL), "llama3.2:3b").Generate(ctx, userRequest("secret prompt", 16))
			var pe *coco.ProviderError
			require.True(t, errors.As(err, &pe), "%v", err)
			assert.ErrorIs(t, err, tc.is)
			assert.Equal(t, tc.status, pe.StatusCode)
			assert.Equal(t, tc.retry, pe.RetryAfter)
			assert.NotContains(t, err.Error(), "secret prompt")
			assert.True(t, strings.HasPrefix(err.Error(), "coco: "))
		})
	}
}

func TestFromLangchainOpenAIWire(t *testing.T) {
	t.Parallel()
	var got struct {
		N         int      `json:"n"`
		MaxTokens int      `json:"max_completion_tokens"`
		Stop      []string `json:"stop"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		w.Header().Set("Content-Type", "application/json")
		choices := []string{}
		for i := range max(got.N, 1) {
			choices = append(choices, fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":"A: %d"},"finish_reason":"stop"}`, i, i))
		}
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[%s],
			"usage":{"prompt_tokens":90,"completion_tokens":15,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":0}}}`,
			strings.Join(choices, ","))
	}))
	defer srv.Close()
	lc, err := openai.New(openai.WithBaseURL(srv.URL), openai.WithToken("test-key"), openai.WithModel("gpt-4o"))
	require.NoError(t, err)
	req := userRequest("hi", 20)
	req.Samples = 3
	req.Stop = []string{"\n\n"}
	resp, err := coco.FromLangchain(lc, "gpt-4o").Generate(context.Background(), req)
	require.NoError(t, err)
	assert.Len(t, resp.Samples, 3)
	assert.Equal(t, coco.Usage{InputTokens: 90, CachedInputTokens: 64, OutputTokens: 15}, resp.Usage, "never summed across choices")
	assert.Equal(t, 3, got.N)
	assert.Equal(t, []string{"\n\n"}, got.Stop)
}

// recorder is a langchaingo callbacks handler that notes the LLM events.
type recorder struct {
	callbacks.SimpleHandler
	mu     sync.Mutex
	events []string
}

func (r *recorder) HandleLLMGenerateContentStart(ctx context.Context, ms []llms.MessageContent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("start %d messages", len(ms)))
}

func (r *recorder) HandleLLMGenerateContentEnd(ctx context.Context, res *llms.ContentResponse) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("end %s", res.Choices[0].GenerationInfo["CocoStage"]))
}

func (r *recorder) HandleLLMError(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, "error")
}

func TestCocoInLLMChain(t *testing.T) {
	t.Parallel()
	slm := cocotest.NewModel("llama3.2:3b").
		On("train", cocotest.Answers("A: 5:15 pm", "A: 5:15 pm", "A: 5:15 pm")).
		On("Jane", cocotest.Answers("A: 02/27/2017", "A: 02/28/2017", "A: 02/26/2017"))
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Reply{Texts: []string{"born 02/28/2001\n####\n02/27/2017"}, Usage: coco.Usage{InputTokens: 80, OutputTokens: 12}})
	rec := &recorder{}
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithHooks(coco.LangchainCallbacks(rec)))

	chain := chains.NewLLMChain(c, prompts.NewPromptTemplate("Question: {{.question}}", []string{"question"}))
	out, err := chains.Run(context.Background(), chain, "A train leaves at 3:40 pm and takes 95 minutes. When does it arrive?")
	require.NoError(t, err)
	assert.Equal(t, "5:15 pm", out)
	out, err = chains.Run(context.Background(), chain, "Jane was born on the last day of February in 2001. Today is her 16th birthday. What was yesterday?")
	require.NoError(t, err)
	assert.Equal(t, "02/27/2017", out)
	assert.Equal(t, []string{"start 2 messages", "end slm", "start 2 messages", "end slm", "start 4 messages", "end llm"}, rec.events)
	assert.Equal(t, "Question: A train leaves at 3:40 pm and takes 95 minutes. When does it arrive?",
		slm.Requests()[0].Messages[1].Content, "the chain's prompt is the task")

	// GenerateContent reports the task under the documented keys.
	resp, err := c.GenerateContent(context.Background(), []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, "Be exact."),
		llms.TextParts(llms.ChatMessageTypeHuman, "Jane was born on the last day of February in 2001. Today is her 16th birthday. What was yesterday?"),
	}, llms.WithMaxTokens(100), llms.WithStopWords([]string{"###"}))
	require.NoError(t, err)
	info := resp.Choices[0].GenerationInfo
	assert.Equal(t, "llm", info[coco.InfoRoute])
	assert.InDelta(t, 0.33, info[coco.InfoConfidence], 0.05)
	assert.Equal(t, "$0.00032", info[coco.InfoCost])
	assert.Greater(t, info[coco.InfoPromptTokens].(int), 80, "the SLM call (counted) and the LLM call (80 reported)")
	assert.Contains(t, resp.Choices[0].ReasoningContent, "Answer: 02/27/2017")
	lastLLM := llm.Requests()[len(llm.Requests())-1]
	assert.Equal(t, 100, lastLLM.MaxTokens, "MaxTokens caps the LLM's output")
	assert.Equal(t, []string{"###"}, lastLLM.Stop)
	assert.True(t, strings.HasPrefix(lastLLM.Messages[len(lastLLM.Messages)-1].Content, "Be exact.\n\nJane"), "system messages go in front of the task")

	var streamed []string
	_, err = c.GenerateContent(context.Background(), []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "A train leaves at 3:40 pm and takes 95 minutes.")},
		llms.WithStreamingFunc(func(ctx context.Context, chunk []byte) error { streamed = append(streamed, string(chunk)); return nil }))
	require.NoError(t, err)
	assert.Equal(t, []string{"5:15 pm"}, streamed)

	for _, tc := range []struct {
		name string
		msgs []llms.MessageContent
		opts []llms.CallOption
	}{
		{"tools", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "q")}, []llms.CallOption{llms.WithTools([]llms.Tool{{Type: "function"}})}},
		{"json mode", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "q")}, []llms.CallOption{llms.WithJSONMode()}},
		{"n", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "q")}, []llms.CallOption{llms.WithN(3)}},
		{"a conversation", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "q"), llms.TextParts(llms.ChatMessageTypeAI, "a"), llms.TextParts(llms.ChatMessageTypeHuman, "q2")}, nil},
		{"two human turns", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeHuman, "q"), llms.TextParts(llms.ChatMessageTypeHuman, "q2")}, nil},
		{"no human", []llms.MessageContent{llms.TextParts(llms.ChatMessageTypeSystem, "s")}, nil},
		{"image", []llms.MessageContent{{Role: llms.ChatMessageTypeHuman, Parts: []llms.ContentPart{llms.ImageURLContent{URL: "http://x"}}}}, nil},
	} {
		_, err := c.GenerateContent(context.Background(), tc.msgs, tc.opts...)
		require.Error(t, err, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "coco: "), tc.name)
	}
}
