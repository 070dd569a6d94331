package coco

import (
	"context"
	"sync"
)

// Model is Coco's contract for a language model: one request in, one or more
// samples with their usage out.
//
// Implementations must be safe for concurrent use. They should return
// Request.Samples samples (or as many as the provider allows, at least one), fill
// Usage with what the provider reported and leave fields at zero where it reported
// nothing (the Meter fills those gaps with local counts and marks them estimated),
// and return Logprobs only when the request asked for them and the provider
// returned them. An implementation that cannot honour a field of the request
// (stop sequences, logprobs) must not fail because of it; Coco checks what came
// back rather than trusting what was asked.
//
// Errors should wrap the provider's error so that errors.As finds it; they must
// not contain API keys or the prompt.
type Model interface {
	Generate(ctx context.Context, req Request) (*Response, error)
}

// ModelFunc adapts an ordinary function to the Model interface, as
// http.HandlerFunc does for http.Handler.
type ModelFunc func(ctx context.Context, req Request) (*Response, error)

// Generate calls f(ctx, req).
func (f ModelFunc) Generate(ctx context.Context, req Request) (*Response, error) {
	return f(ctx, req)
}

// Namer is the optional capability of a Model to say which model it is. The name
// is the key into the price table, so the Meter can price and budget a call
// before it is sent.
type Namer interface {
	Name() string
}

// NamedModel gives m the name name: the returned Model implements Namer and
// passes every call through to m.
func NamedModel(name string, m Model) Model {
	return namedModel{name: name, Model: m}
}

type namedModel struct {
	name string
	Model
}

func (n namedModel) Name() string { return n.name }

// ModelName returns m's name if it implements Namer, and "" otherwise.
func ModelName(m Model) string {
	if n, ok := m.(Namer); ok {
		return n.Name()
	}
	return ""
}

// Role is the author of a chat message.
type Role string

// The roles of chat messages.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one chat message.
type Message struct {
	Role    Role
	Name    string // optional author name; counts as tokens on OpenAI models
	Content string
}

// Request is what Coco asks of a Model.
type Request struct {
	Messages []Message

	// MaxTokens caps the output tokens of each sample; 0 leaves it to the
	// provider. A Meter with a budget needs it (or a known output limit) to
	// bound the call's cost.
	MaxTokens int

	// Temperature is the sampling temperature; nil leaves it to the provider.
	Temperature *float64

	// Samples is the number of samples wanted; 0 means 1.
	Samples int

	// Logprobs asks for the log probability of every output token, and
	// TopLogprobs for that many alternatives at each position, where the
	// provider offers them.
	Logprobs    bool
	TopLogprobs int

	// Stop lists sequences at which the model should stop.
	Stop []string
}

// SampleCount returns the number of samples r asks for: Samples, or 1 if it is
// not positive.
func (r Request) SampleCount() int {
	if r.Samples < 1 {
		return 1
	}
	return r.Samples
}

// Response is what a Model returns.
type Response struct {
	// Model is the name of the model that answered, as the provider reports it
	// (it may be a dated snapshot of the name asked for).
	Model   string
	Samples []Sample
	// Usage is the usage of the whole call, all samples together.
	Usage Usage
}

// Sample is one generated answer.
type Sample struct {
	Text string
	// Logprobs holds one entry per output token when the request asked for
	// logprobs and the provider returned them; nil otherwise.
	Logprobs []TokenLogprob
	// FinishReason is the provider's reason to stop ("stop", "length", ...),
	// or "" when it gave none.
	FinishReason string
}

// TokenLogprob is the log probability of one output token.
type TokenLogprob struct {
	Token   string
	Logprob float64
	// Top holds the most likely alternatives at this position, most likely
	// first, when the request asked for TopLogprobs.
	Top []TopLogprob
}

// TopLogprob is one alternative token at a position.
type TopLogprob struct {
	Token   string
	Logprob float64
}

// Usage counts the tokens of one or more calls.
//
// The counts nest as OpenAI reports them: InputTokens counts every prompt token,
// including CachedInputTokens (read from a prompt cache) and CacheWriteTokens
// (written to one); OutputTokens counts every generated token, including
// ReasoningTokens. Adapters for providers that report them separately
// (Anthropic) add them up.
type Usage struct {
	InputTokens       int
	CachedInputTokens int
	CacheWriteTokens  int
	OutputTokens      int
	ReasoningTokens   int

	// Estimated is true when any count was made locally rather than reported
	// by the provider.
	Estimated bool
}

// Add returns the sum of u and v; the sum is estimated if either is.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:       u.InputTokens + v.InputTokens,
		CachedInputTokens: u.CachedInputTokens + v.CachedInputTokens,
		CacheWriteTokens:  u.CacheWriteTokens + v.CacheWriteTokens,
		OutputTokens:      u.OutputTokens + v.OutputTokens,
		ReasoningTokens:   u.ReasoningTokens + v.ReasoningTokens,
		Estimated:         u.Estimated || v.Estimated,
	}
}

// Total returns InputTokens + OutputTokens.
func (u Usage) Total() int { return u.InputTokens + u.OutputTokens }

// PromptScorer is the optional capability of a Model to score a text: the log
// probability the model gives each of its tokens, each given the ones before
// (what vLLM's prompt_logprobs and OpenAI-style completions with echo return).
// The first token has no context; its Logprob is 0. The tokens, joined, spell
// text. SLMCompressor uses it to drop the context the SLM finds predictable.
// Implementations must be safe for concurrent use.
type PromptScorer interface {
	ScoreText(ctx context.Context, text string) ([]TokenLogprob, Usage, error)
}

// CollectSamples completes resp to want samples, for adapters of providers
// that return fewer than they were asked for (some ignore n): it calls one,
// which must return a one-sample response, concurrently for each missing
// sample, and adds their samples and usage (separate calls are billed
// separately). A call that fails is skipped, so resp may still hold fewer
// samples than wanted; Coco marks that degraded. It returns when every call
// has returned.
func CollectSamples(ctx context.Context, resp *Response, want int, one func(context.Context) (*Response, error)) {
	missing := want - len(resp.Samples)
	if missing <= 0 {
		return
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := one(ctx)
			if err != nil || r == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			resp.Samples = append(resp.Samples, r.Samples...)
			resp.Usage = resp.Usage.Add(r.Usage)
		}()
	}
	wg.Wait()
}
