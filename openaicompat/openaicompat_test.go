package openaicompat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/openaicompat"
)

// chatBody is what the tests read of a chat completions request.
type chatBody struct {
	Model               string            `json:"model"`
	Messages            []json.RawMessage `json:"messages"`
	N                   int               `json:"n"`
	MaxCompletionTokens int               `json:"max_completion_tokens"`
	MaxTokens           int               `json:"max_tokens"`
	Temperature         *float64          `json:"temperature"`
	Stop                []string          `json:"stop"`
	Logprobs            bool              `json:"logprobs"`
	TopLogprobs         int               `json:"top_logprobs"`
}

// completion writes a chat completion with n choices, each with the token
// logprobs of its text, and usage with cached and reasoning tokens.
func completion(w http.ResponseWriter, n int, texts ...string) {
	w.Header().Set("Content-Type", "application/json")
	var choices []string
	for i := range n {
		text := texts[i%len(texts)]
		var toks []string
		for _, tok := range strings.SplitAfter(text, " ") {
			toks = append(toks, fmt.Sprintf(`{"token":%q,"logprob":%g,"bytes":null,"top_logprobs":[{"token":%q,"logprob":%g}]}`, tok, math.Log(0.9), tok, math.Log(0.9)))
		}
		choices = append(choices, fmt.Sprintf(`{"index":%d,"message":{"role":"assistant","content":%q},"finish_reason":"stop","logprobs":{"content":[%s]}}`,
			i, text, strings.Join(toks, ",")))
	}
	fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[%s],
		"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,
		"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":8}}}`, strings.Join(choices, ","))
}

func newModel(t *testing.T, srv *httptest.Server, mod func(*openaicompat.Config)) *openaicompat.Model {
	t.Helper()
	cfg := openaicompat.Config{BaseURL: srv.URL + "/v1", APIKey: "sk-test-secret", Model: "gpt-4o"}
	if mod != nil {
		mod(&cfg)
	}
	m, err := openaicompat.New(cfg)
	require.NoError(t, err)
	return m
}

func TestGenerate(t *testing.T) {
	// Not parallel: it sets environment variables to prove they are not read.
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/never")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	var body chatBody
	var auth, path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, path = r.Header.Get("Authorization"), r.URL.Path
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		completion(w, max(body.N, 1), "Today is May 1. A: 05/01/2021", "A: 05/02/2021")
	}))
	defer srv.Close()
	m := newModel(t, srv, nil)
	assert.Equal(t, "gpt-4o", m.Name())

	temp := 0.7
	resp, err := m.Generate(context.Background(), coco.Request{
		Messages:  []coco.Message{{Role: coco.RoleSystem, Content: "Be brief."}, {Role: coco.RoleUser, Name: "jane", Content: "What is the date?"}},
		MaxTokens: 64, Temperature: &temp, Samples: 3, Logprobs: true, TopLogprobs: 2, Stop: []string{"\n\n"},
	})
	require.NoError(t, err)
	assert.Equal(t, "/v1/chat/completions", path)
	assert.Equal(t, "Bearer sk-test-secret", auth, "the configured key, not the environment's")
	assert.Equal(t, "gpt-4o", body.Model)
	assert.Len(t, body.Messages, 2)
	assert.Contains(t, string(body.Messages[1]), `"name":"jane"`)
	assert.Equal(t, 3, body.N)
	assert.Equal(t, 64, body.MaxCompletionTokens)
	assert.Zero(t, body.MaxTokens)
	require.NotNil(t, body.Temperature)
	assert.Equal(t, 0.7, *body.Temperature)
	assert.Equal(t, []string{"\n\n"}, body.Stop)
	assert.True(t, body.Logprobs)
	assert.Equal(t, 2, body.TopLogprobs)

	require.Len(t, resp.Samples, 3)
	assert.Equal(t, "gpt-4o-2024-08-06", resp.Model)
	assert.Equal(t, "Today is May 1. A: 05/01/2021", resp.Samples[0].Text)
	require.NotEmpty(t, resp.Samples[0].Logprobs)
	var spelled strings.Builder
	for _, tl := range resp.Samples[0].Logprobs {
		spelled.WriteString(tl.Token)
		assert.InDelta(t, math.Log(0.9), tl.Logprob, 1e-12)
		require.Len(t, tl.Top, 1)
	}
	assert.Equal(t, resp.Samples[0].Text, spelled.String())
	assert.Equal(t, coco.Usage{InputTokens: 120, CachedInputTokens: 64, OutputTokens: 30, ReasoningTokens: 8}, resp.Usage)

	// The logprob estimator reads them: 0.9 per token of the answer.
	a := &coco.Attempt{Samples: resp.Samples[:1], Answers: []string{"05/01/2021"}, Raw: []string{"05/01/2021"}}
	p, ok := coco.LogprobEstimator{}.Estimate(a)
	require.True(t, ok)
	assert.InDelta(t, 0.9, p, 1e-9)
}

func TestGenerateTopsUpIgnoredN(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var body chatBody
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		assert.Zero(t, body.MaxCompletionTokens)
		assert.Equal(t, 32, body.MaxTokens, "LegacyMaxTokens sends max_tokens")
		assert.False(t, body.Logprobs, "NoLogprobs never asks")
		completion(w, 1, "A: 4") // a server that ignores n
	}))
	defer srv.Close()
	m := newModel(t, srv, func(c *openaicompat.Config) { c.LegacyMaxTokens, c.NoLogprobs, c.Name = true, true, "llama3.2:3b" })
	assert.Equal(t, "llama3.2:3b", m.Name())
	resp, err := m.Generate(context.Background(), coco.Request{Messages: []coco.Message{{Role: coco.RoleUser, Content: "2+2?"}}, MaxTokens: 32, Samples: 4, Logprobs: true})
	require.NoError(t, err)
	assert.Len(t, resp.Samples, 4)
	assert.Equal(t, int64(4), calls.Load())
	assert.Equal(t, 4*120, resp.Usage.InputTokens, "separate calls add up")
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter)
		is     error
		status int
		retry  time.Duration
		retry2 bool
	}{
		{"401", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		}, coco.ErrUnauthorized, 401, 0, false},
		{"429 with Retry-After", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "12")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`)
		}, coco.ErrRateLimited, 429, 12 * time.Second, true},
		{"500", func(w http.ResponseWriter) {
			w.WriteHeader(500)
			io.WriteString(w, `oops`)
		}, coco.ErrProviderUnavailable, 500, 0, true},
		{"400", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"message":"bad field","type":"invalid_request_error"}}`)
		}, nil, 400, 0, false},
		{"malformed JSON", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x","choices":[{"index":0,"message":{"content":"A: 4"`)
		}, coco.ErrBadResponse, 0, 0, true},
		{"no choices", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}`)
		}, coco.ErrBadResponse, 200, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.handle(w) }))
			defer srv.Close()
			_, err := newModel(t, srv, nil).Generate(context.Background(), coco.Request{Messages: []coco.Message{{Role: coco.RoleUser, Content: "my secret prompt"}}})
			var pe *coco.ProviderError
			require.True(t, errors.As(err, &pe), "%v", err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Equal(t, tc.status, pe.StatusCode)
			assert.Equal(t, tc.retry, pe.RetryAfter)
			assert.Equal(t, tc.retry2, pe.Retryable())
			assert.NotContains(t, err.Error(), "my secret prompt")
			assert.NotContains(t, err.Error(), "sk-test-secret")
			assert.True(t, strings.HasPrefix(err.Error(), "coco: openai-compatible gpt-4o"), err.Error())
		})
	}
}

func TestGenerateHonoursContext(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done: // the test is over: let Close return at once
		}
	}))
	defer srv.Close()
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newModel(t, srv, nil).Generate(ctx, coco.Request{Messages: []coco.Message{{Role: coco.RoleUser, Content: "q"}}})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestConfig(t *testing.T) {
	_, err := openaicompat.New(openaicompat.Config{Model: "m"})
	assert.Error(t, err)
	t.Setenv("TEST_X_BASE_URL", "http://localhost:8080/v1")
	t.Setenv("TEST_X_MODEL", "qwen2.5")
	cfg, ok := openaicompat.ConfigFromEnv("TEST_X")
	assert.True(t, ok)
	assert.Equal(t, openaicompat.Config{BaseURL: "http://localhost:8080/v1", Model: "qwen2.5"}, cfg)
	_, ok = openaicompat.ConfigFromEnv("TEST_UNSET")
	assert.False(t, ok)
}

func TestModelsFromEnv(t *testing.T) {
	for _, k := range []string{"COCO_BASE_URL", "COCO_API_KEY", "COCO_SLM_BASE_URL", "COCO_SLM_API_KEY", "COCO_SLM_MODEL", "COCO_LLM_BASE_URL", "COCO_LLM_API_KEY", "COCO_LLM_MODEL"} {
		t.Setenv(k, "")
	}
	_, _, ok, err := openaicompat.ModelsFromEnv()
	require.NoError(t, err)
	assert.False(t, ok, "nothing set")

	t.Setenv("COCO_BASE_URL", "https://api.example.com/v1")
	t.Setenv("COCO_SLM_BASE_URL", "http://localhost:11434/v1")
	t.Setenv("COCO_SLM_MODEL", "llama3.2:3b")
	_, _, ok, _ = openaicompat.ModelsFromEnv()
	assert.False(t, ok, "no LLM model")
	t.Setenv("COCO_LLM_MODEL", "gpt-4o")
	slm, llm, ok, err := openaicompat.ModelsFromEnv()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "openaicompat.Model{llama3.2:3b at http://localhost:11434/v1}", slm.String())
	assert.Equal(t, "openaicompat.Model{gpt-4o at https://api.example.com/v1}", llm.String())
}

func TestScoreText(t *testing.T) {
	t.Parallel()
	var body struct {
		Prompt    string `json:"prompt"`
		Echo      bool   `json:"echo"`
		Logprobs  *int   `json:"logprobs"`
		MaxTokens int    `json:"max_tokens"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/v1/completions", r.URL.Path)
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		w.Header().Set("Content-Type", "application/json")
		// The echoed prompt's tokens (the first without a logprob), then
		// the one generated token.
		io.WriteString(w, `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"The cat sat.\n","finish_reason":"length",
			"logprobs":{"tokens":["The"," cat"," sat","."," \n"],"token_logprobs":[null,-5.2,-1.5,-0.2,-3.0],"text_offset":[0,3,7,11,12],"top_logprobs":null}}],
			"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}`)
	}))
	defer srv.Close()
	m := newModel(t, srv, nil)
	toks, u, err := m.ScoreText(context.Background(), "The cat sat.")
	require.NoError(t, err)
	assert.True(t, body.Echo)
	require.NotNil(t, body.Logprobs)
	assert.Equal(t, 0, *body.Logprobs)
	assert.Equal(t, 1, body.MaxTokens)
	assert.Equal(t, "The cat sat.", body.Prompt)
	assert.Equal(t, []coco.TokenLogprob{{Token: "The"}, {Token: " cat", Logprob: -5.2}, {Token: " sat", Logprob: -1.5}, {Token: ".", Logprob: -0.2}}, toks)
	assert.Equal(t, coco.Usage{InputTokens: 4, OutputTokens: 1}, u)

	_, _, err = m.ScoreText(context.Background(), "Something else entirely.")
	assert.ErrorIs(t, err, coco.ErrBadResponse, "tokens that do not spell the text are an error")
}
