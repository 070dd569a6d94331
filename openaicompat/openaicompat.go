// Package openaicompat is a coco.Model for OpenAI-compatible chat completion
// endpoints (OpenAI, vLLM, llama.cpp's server, Ollama's /v1, ...), built on the
// official openai-go client. Unlike the langchaingo providers it asks for and
// returns token logprobs, which coco's logprob confidence reads, and n samples
// with usage, cached tokens included.
//
// It is a package of its own so that programs that do not use it do not link
// openai-go.
package openaicompat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/coco-llm/coco"
)

// Config says which endpoint and model to use.
type Config struct {
	// BaseURL is the API's base, such as "https://api.openai.com/v1" or
	// "http://localhost:11434/v1" for Ollama. Required.
	BaseURL string
	// APIKey is sent as a bearer token; local servers may need none.
	APIKey string
	// Model is the model name the endpoint knows, and the Model's name (the
	// coco price-table key) unless Name is set.
	Model string
	// Name, if set, is the coco name (price key) when it differs from Model.
	Name string
	// HTTPClient makes the requests; nil means http.DefaultClient. Deadlines
	// come from the context of each call.
	HTTPClient *http.Client
	// LegacyMaxTokens sends max_tokens instead of max_completion_tokens, for
	// servers that know only the older field.
	LegacyMaxTokens bool
	// NoLogprobs never asks for logprobs, for servers that reject the field.
	NoLogprobs bool
}

// Model is a coco.Model for one model of an OpenAI-compatible endpoint. It is
// safe for concurrent use. The client never retries on its own: retries
// belong to the caller, which sees each failure as a *coco.ProviderError.
type Model struct {
	cfg         Config
	chat        openai.ChatCompletionService
	completions openai.CompletionService
}

var (
	_ coco.Model = (*Model)(nil)
	_ coco.Namer = (*Model)(nil)
)

// New returns a Model for cfg. It reads no environment variables (see
// ConfigFromEnv for that).
func New(cfg Config) (*Model, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("coco: openaicompat: Config needs BaseURL and Model")
	}
	m := &Model{cfg: cfg}
	// The services take only these options: unlike openai.NewClient they do
	// not read OPENAI_API_KEY and the like.
	m.chat = openai.NewChatCompletionService(m.options()...)
	m.completions = openai.NewCompletionService(m.options()...)
	return m, nil
}

func (m *Model) options() []option.RequestOption {
	client := m.cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	opts := []option.RequestOption{
		option.WithBaseURL(m.cfg.BaseURL),
		option.WithHTTPClient(client),
		option.WithMaxRetries(0),
	}
	if m.cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(m.cfg.APIKey))
	}
	return opts
}

// Name implements coco.Namer.
func (m *Model) Name() string {
	if m.cfg.Name != "" {
		return m.cfg.Name
	}
	return m.cfg.Model
}

// Generate implements coco.Model. It asks for Request.Samples choices with
// n; a server that returns fewer (some ignore n) gets the missing ones asked
// for concurrently, one a call.
func (m *Model) Generate(ctx context.Context, req coco.Request) (*coco.Response, error) {
	k := req.SampleCount()
	resp, err := m.once(ctx, req, k)
	if err != nil {
		return nil, err
	}
	coco.CollectSamples(ctx, resp, k, func(ctx context.Context) (*coco.Response, error) { return m.once(ctx, req, 1) })
	return resp, nil
}

func (m *Model) params(req coco.Request, n int) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{Model: m.cfg.Model}
	for _, msg := range req.Messages {
		switch msg.Role {
		case coco.RoleSystem:
			p.Messages = append(p.Messages, openai.SystemMessage(msg.Content))
		case coco.RoleAssistant:
			p.Messages = append(p.Messages, openai.AssistantMessage(msg.Content))
		default:
			u := openai.UserMessage(msg.Content)
			if msg.Name != "" && u.OfUser != nil {
				u.OfUser.Name = openai.String(msg.Name)
			}
			p.Messages = append(p.Messages, u)
		}
	}
	if req.MaxTokens > 0 {
		if m.cfg.LegacyMaxTokens {
			p.MaxTokens = openai.Int(int64(req.MaxTokens))
		} else {
			p.MaxCompletionTokens = openai.Int(int64(req.MaxTokens))
		}
	}
	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	if n > 1 {
		p.N = openai.Int(int64(n))
	}
	if len(req.Stop) > 0 {
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
	}
	if req.Logprobs && !m.cfg.NoLogprobs {
		p.Logprobs = openai.Bool(true)
		if req.TopLogprobs > 0 {
			p.TopLogprobs = openai.Int(int64(req.TopLogprobs))
		}
	}
	return p
}

func (m *Model) once(ctx context.Context, req coco.Request, n int) (*coco.Response, error) {
	cc, err := m.chat.New(ctx, m.params(req, n))
	if err != nil {
		return nil, m.providerError(ctx, err)
	}
	out := &coco.Response{Model: cc.Model, Usage: coco.Usage{
		InputTokens:       int(cc.Usage.PromptTokens),
		CachedInputTokens: int(cc.Usage.PromptTokensDetails.CachedTokens),
		OutputTokens:      int(cc.Usage.CompletionTokens),
		ReasoningTokens:   int(cc.Usage.CompletionTokensDetails.ReasoningTokens),
	}}
	for _, ch := range cc.Choices {
		s := coco.Sample{Text: ch.Message.Content, FinishReason: ch.FinishReason}
		if req.Logprobs {
			for _, t := range ch.Logprobs.Content {
				tl := coco.TokenLogprob{Token: t.Token, Logprob: t.Logprob}
				for _, top := range t.TopLogprobs {
					tl.Top = append(tl.Top, coco.TopLogprob{Token: top.Token, Logprob: top.Logprob})
				}
				s.Logprobs = append(s.Logprobs, tl)
			}
		}
		if s.Text != "" {
			out.Samples = append(out.Samples, s)
		}
	}
	if len(out.Samples) == 0 {
		return nil, &coco.ProviderError{Provider: m.provider(), StatusCode: 200, Message: "no text in any choice", Err: coco.ErrEmptyResponse}
	}
	return out, nil
}

func (m *Model) provider() string { return "openai-compatible " + m.Name() }

// providerError turns openai-go's errors into *coco.ProviderError.
func (m *Model) providerError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	pe := &coco.ProviderError{Provider: m.provider(), Err: err}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		pe.StatusCode = apiErr.StatusCode
		pe.Message = coco.ShortMessage(apiErr.Message)
		if apiErr.Response != nil {
			pe.RetryAfter = retryAfter(apiErr.Response.Header, time.Now())
		}
		if pe.Message == "" {
			pe.Message = http.StatusText(apiErr.StatusCode)
		}
		return pe
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		pe.Message = "malformed response: " + coco.ShortMessage(err.Error())
	default:
		pe.Message = coco.ShortMessage(err.Error())
	}
	return pe
}

// retryAfter reads Retry-After or, failing that, OpenAI's retry-after-ms.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if d := coco.ParseRetryAfter(h.Get("Retry-After"), now); d > 0 {
		return d
	}
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 && ms < 1e9 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	return 0
}

// ConfigFromEnv reads a Config from the environment, for programs and live
// tests that choose to: prefix+"_BASE_URL", prefix+"_API_KEY" and
// prefix+"_MODEL" (for example COCO_LLM_BASE_URL, COCO_LLM_API_KEY,
// COCO_LLM_MODEL). ok is false when the base URL or the model is unset. The
// library never calls it on its own.
func ConfigFromEnv(prefix string) (cfg Config, ok bool) {
	cfg = Config{
		BaseURL: strings.TrimSpace(os.Getenv(prefix + "_BASE_URL")),
		APIKey:  strings.TrimSpace(os.Getenv(prefix + "_API_KEY")),
		Model:   strings.TrimSpace(os.Getenv(prefix + "_MODEL")),
	}
	return cfg, cfg.BaseURL != "" && cfg.Model != ""
}

// String describes the model without its key.
func (m *Model) String() string {
	return fmt.Sprintf("openaicompat.Model{%s at %s}", m.Name(), m.cfg.BaseURL)
}

// The environment variables ModelsFromEnv reads. COCO_BASE_URL and
// COCO_API_KEY apply to both models unless COCO_SLM_* or COCO_LLM_* say
// otherwise; the model names have no shared default.
const (
	EnvBaseURL    = "COCO_BASE_URL"
	EnvAPIKey     = "COCO_API_KEY"
	EnvSLMBaseURL = "COCO_SLM_BASE_URL"
	EnvSLMAPIKey  = "COCO_SLM_API_KEY"
	EnvSLMModel   = "COCO_SLM_MODEL"
	EnvLLMBaseURL = "COCO_LLM_BASE_URL"
	EnvLLMAPIKey  = "COCO_LLM_API_KEY"
	EnvLLMModel   = "COCO_LLM_MODEL"
)

// ModelsFromEnv builds the SLM and the LLM from the COCO_* environment
// variables (see EnvBaseURL and the others), for the examples and the live
// tests. ok is false, with no error, when a base URL or a model name is
// missing for either side. The library never calls it on its own.
func ModelsFromEnv() (slm, llm *Model, ok bool, err error) {
	side := func(prefix string) (Config, bool) {
		cfg, _ := ConfigFromEnv(prefix)
		if cfg.BaseURL == "" {
			cfg.BaseURL = strings.TrimSpace(os.Getenv(EnvBaseURL))
		}
		if cfg.APIKey == "" {
			cfg.APIKey = strings.TrimSpace(os.Getenv(EnvAPIKey))
		}
		return cfg, cfg.BaseURL != "" && cfg.Model != ""
	}
	scfg, sok := side("COCO_SLM")
	lcfg, lok := side("COCO_LLM")
	if !sok || !lok {
		return nil, nil, false, nil
	}
	if slm, err = New(scfg); err != nil {
		return nil, nil, false, err
	}
	if llm, err = New(lcfg); err != nil {
		return nil, nil, false, err
	}
	return slm, llm, true, nil
}

var _ coco.PromptScorer = (*Model)(nil)

// ScoreText implements coco.PromptScorer with the legacy completions endpoint:
// the text as prompt, echo on, one logprob a token, one token generated (the
// least some servers accept). vLLM and OpenAI's completion models serve it;
// chat-only servers answer with an error.
func (m *Model) ScoreText(ctx context.Context, text string) ([]coco.TokenLogprob, coco.Usage, error) {
	resp, err := m.completions.New(ctx, openai.CompletionNewParams{
		Model:     openai.CompletionNewParamsModel(m.cfg.Model),
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String(text)},
		Echo:      openai.Bool(true),
		Logprobs:  openai.Int(0),
		MaxTokens: openai.Int(1),
	})
	if err != nil {
		return nil, coco.Usage{}, m.providerError(ctx, err)
	}
	u := coco.Usage{InputTokens: int(resp.Usage.PromptTokens), OutputTokens: int(resp.Usage.CompletionTokens)}
	if len(resp.Choices) == 0 {
		return nil, u, &coco.ProviderError{Provider: m.provider(), StatusCode: 200, Message: "no choice to score", Err: coco.ErrEmptyResponse}
	}
	lp := resp.Choices[0].Logprobs
	var out []coco.TokenLogprob
	spelled := 0
	for i, tok := range lp.Tokens {
		if spelled >= len(text) {
			break // the generated token after the echo
		}
		l := 0.0
		if i < len(lp.TokenLogprobs) && i > 0 {
			l = lp.TokenLogprobs[i]
		}
		out = append(out, coco.TokenLogprob{Token: tok, Logprob: l})
		spelled += len(tok)
	}
	if spelled != len(text) {
		return nil, u, &coco.ProviderError{Provider: m.provider(), StatusCode: 200,
			Message: fmt.Sprintf("echoed tokens spell %d bytes of a %d-byte text", spelled, len(text)), Err: coco.ErrEmptyResponse}
	}
	return out, u, nil
}
