package coco

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/llms"
)

// The keys under which (*Coco).GenerateContent reports on the task in the
// choice's GenerationInfo. PromptTokens, CompletionTokens, TotalTokens,
// ReasoningTokens and PromptCachedTokens add up every model call of the task,
// as langchaingo's openai provider names them.
const (
	InfoRoute        = "CocoRoute"          // string: "slm" or "llm"
	InfoReason       = "CocoReason"         // string: why
	InfoConfidence   = "CocoConfidence"     // float64 in [0,1]
	InfoCost         = "CocoCost"           // string: exact dollars, "$0.000425"
	InfoCostUSD      = "CocoCostUSD"        // float64 dollars (for display)
	InfoLLMOnlyUSD   = "CocoLLMOnlyCostUSD" // float64: the LLM-only estimate
	InfoSavedUSD     = "CocoSavedUSD"       // float64: LLM-only minus cost
	InfoEstimated    = "CocoEstimated"      // []string: what was estimated
	InfoDegraded     = "CocoDegraded"       // []string: what went wrong on the way
	InfoPromptTokens = "PromptTokens"       // int
	InfoOutputTokens = "CompletionTokens"   // int
	InfoTotalTokens  = "TotalTokens"        // int
	InfoReasoning    = "ReasoningTokens"    // int
	InfoCachedTokens = "PromptCachedTokens" // int
)

var _ llms.Model = (*Coco)(nil)

// GenerateContent makes Coco a langchaingo llms.Model, so that it replaces
// the model of an existing chain (chains.NewLLMChain(c, prompt)).
//
// The last human message is the task; system messages before it are put in
// front of it as instructions. A conversation with assistant, tool or function
// messages is an error: Coco answers one task, and dropping turns silently
// would change it. Call options: MaxTokens caps every model call's output,
// Temperature sets the SLM's sampling temperature, StopWords apply to every
// call, and StreamingFunc receives the answer in one chunk when it is known.
// Every other option (tools, JSON mode, N, seeds, penalties...) is an error
// rather than ignored.
//
// The choice's Content is the answer, ReasoningContent the rationale, and
// GenerationInfo reports the route, confidence, tokens and cost under the
// Info* keys.
func (c *Coco) GenerateContent(ctx context.Context, messages []llms.MessageContent, options ...llms.CallOption) (*llms.ContentResponse, error) {
	task, err := taskFromMessages(messages)
	if err != nil {
		return nil, err
	}
	var opts llms.CallOptions
	for _, o := range options {
		o(&opts)
	}
	o, err := overridesFrom(opts)
	if err != nil {
		return nil, err
	}
	r, err := c.run(ctx, taskInput{text: task}, o)
	if err != nil {
		return nil, err
	}
	if opts.StreamingFunc != nil {
		if err := opts.StreamingFunc(ctx, []byte(r.Answer)); err != nil {
			return nil, err
		}
	}
	info := map[string]any{
		InfoRoute:        string(r.Route),
		InfoReason:       r.Reason,
		InfoConfidence:   r.Confidence,
		InfoCost:         r.Cost.String(),
		InfoCostUSD:      r.Cost.Float(),
		InfoLLMOnlyUSD:   r.LLMOnlyCost.Float(),
		InfoSavedUSD:     r.Saved.Float(),
		InfoEstimated:    r.Estimated,
		InfoDegraded:     r.Degraded,
		InfoPromptTokens: r.Usage.InputTokens,
		InfoOutputTokens: r.Usage.OutputTokens,
		InfoTotalTokens:  r.Usage.Total(),
		InfoReasoning:    r.Usage.ReasoningTokens,
		InfoCachedTokens: r.Usage.CachedInputTokens,
	}
	return &llms.ContentResponse{Choices: []*llms.ContentChoice{{
		Content: r.Answer, ReasoningContent: r.Rationale, StopReason: "stop", GenerationInfo: info,
	}}}, nil
}

// Call implements the deprecated half of llms.Model.
func (c *Coco) Call(ctx context.Context, prompt string, options ...llms.CallOption) (string, error) {
	return llms.GenerateFromSinglePrompt(ctx, c, prompt, options...)
}

func taskFromMessages(messages []llms.MessageContent) (string, error) {
	var system []string
	last := -1
	for i, m := range messages {
		switch m.Role {
		case llms.ChatMessageTypeHuman, llms.ChatMessageTypeGeneric:
			last = i
		case llms.ChatMessageTypeSystem:
		default:
			return "", fmt.Errorf("coco: GenerateContent answers one task; the messages hold a %q turn", m.Role)
		}
	}
	if last < 0 {
		return "", fmt.Errorf("%w: no human message", ErrEmptyTask)
	}
	for i, m := range messages {
		text, err := messageText(m)
		if err != nil {
			return "", err
		}
		switch {
		case m.Role == llms.ChatMessageTypeSystem && i < last:
			system = append(system, text)
		case i != last && m.Role != llms.ChatMessageTypeSystem:
			return "", errors.New("coco: GenerateContent answers one task; the messages hold more than one human turn")
		case m.Role == llms.ChatMessageTypeSystem:
			return "", errors.New("coco: GenerateContent: a system message after the task")
		}
	}
	task, _ := messageText(messages[last])
	if len(system) > 0 {
		task = strings.Join(system, "\n\n") + "\n\n" + task
	}
	return task, nil
}

func messageText(m llms.MessageContent) (string, error) {
	var b strings.Builder
	for _, p := range m.Parts {
		t, ok := p.(llms.TextContent)
		if !ok {
			return "", fmt.Errorf("coco: GenerateContent takes text only, not %T", p)
		}
		b.WriteString(t.Text)
	}
	return b.String(), nil
}

// overridesFrom takes the call options Coco honours and refuses the others.
func overridesFrom(o llms.CallOptions) (overrides, error) {
	var unsupported []string
	check := func(set bool, name string) {
		if set {
			unsupported = append(unsupported, name)
		}
	}
	check(o.Model != "", "Model")
	check(o.CandidateCount > 1, "CandidateCount")
	check(o.N > 1, "N")
	check(o.TopK != 0, "TopK")
	check(o.TopP != 0, "TopP")
	check(o.Seed != 0, "Seed")
	check(o.MinLength != 0 || o.MaxLength != 0, "MinLength/MaxLength")
	check(o.RepetitionPenalty != 0 || o.FrequencyPenalty != 0 || o.PresencePenalty != 0, "penalties")
	check(o.JSONMode, "JSONMode")
	check(len(o.Tools) > 0 || o.ToolChoice != nil, "Tools")
	check(len(o.Functions) > 0 || o.FunctionCallBehavior != "", "Functions")
	check(o.StreamingReasoningFunc != nil, "StreamingReasoningFunc")
	check(len(o.Metadata) > 0, "Metadata")
	check(o.ResponseMIMEType != "", "ResponseMIMEType")
	if len(unsupported) > 0 {
		return overrides{}, fmt.Errorf("coco: GenerateContent does not support the call options %s", strings.Join(unsupported, ", "))
	}
	out := overrides{maxTokens: o.MaxTokens, stop: o.StopWords}
	if o.Temperature != 0 {
		t := o.Temperature
		out.temperature = &t
	}
	return out, nil
}

// FromLangchain adapts any langchaingo model to a coco Model named name (the
// price-table key).
//
// Messages map by role (a message's Name is not sent: langchaingo has no field
// for it). MaxTokens, Temperature and Stop pass through as call options. For k
// samples it asks for k choices (WithN and WithCandidateCount), and where the
// provider returns fewer (Ollama and Anthropic ignore both) it makes the
// missing calls concurrently; if some of those fail, the samples that came
// back are returned. Logprobs are never returned: no langchaingo provider
// offers them.
//
// Usage is read from the first choice's GenerationInfo, under the keys of
// openai (PromptTokens, CompletionTokens, ReasoningTokens, PromptCachedTokens),
// ollama, anthropic (InputTokens, OutputTokens, CacheReadInputTokens,
// CacheCreationInputTokens, added up into InputTokens), googleai and vertex
// (input_tokens, output_tokens): never summed across the choices of one
// response (openai copies the whole response's usage into each), summed across
// separate calls. A provider that reports none leaves the counts at zero, and
// the Meter counts them and marks them estimated.
//
// Errors come back as *ProviderError; with ObserveHTTP in the provider's HTTP
// client they carry the HTTP status and Retry-After.
func FromLangchain(m llms.Model, name string) Model {
	return &langchainModel{m: m, name: name}
}

type langchainModel struct {
	m    llms.Model
	name string
}

func (l *langchainModel) Name() string { return l.name }

func (l *langchainModel) Generate(ctx context.Context, req Request) (*Response, error) {
	msgs := make([]llms.MessageContent, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = llms.TextParts(langchainRole(m.Role), m.Content)
	}
	k := req.SampleCount()
	resp, err := l.once(ctx, msgs, req, k)
	if err != nil {
		return nil, err
	}
	CollectSamples(ctx, resp, k, func(ctx context.Context) (*Response, error) { return l.once(ctx, msgs, req, 1) })
	return resp, nil
}

func (l *langchainModel) once(ctx context.Context, msgs []llms.MessageContent, req Request, n int) (*Response, error) {
	var opts []llms.CallOption
	if req.MaxTokens > 0 {
		opts = append(opts, llms.WithMaxTokens(req.MaxTokens))
	}
	if req.Temperature != nil {
		opts = append(opts, llms.WithTemperature(*req.Temperature))
	}
	if len(req.Stop) > 0 {
		opts = append(opts, llms.WithStopWords(req.Stop))
	}
	if n > 1 {
		opts = append(opts, llms.WithN(n), llms.WithCandidateCount(n))
	}
	octx, obs := observe(ctx)
	cr, err := l.m.GenerateContent(octx, msgs, opts...)
	if err != nil {
		return nil, l.providerError(ctx, err, obs)
	}
	out := &Response{Model: l.name}
	for _, ch := range cr.Choices {
		if ch == nil || ch.Content == "" {
			continue
		}
		out.Samples = append(out.Samples, Sample{Text: ch.Content, FinishReason: ch.StopReason})
	}
	if len(cr.Choices) > 0 && cr.Choices[0] != nil {
		out.Usage = usageFromInfo(cr.Choices[0].GenerationInfo)
	}
	if len(out.Samples) > n {
		out.Samples = out.Samples[:n]
	}
	if len(out.Samples) == 0 {
		// Ollama's client answers a stream cut before its last line with an
		// empty message and no error: an empty answer is not an answer.
		return nil, &ProviderError{Provider: l.provider(), Message: "empty response (no text in any choice)", Err: ErrEmptyResponse}
	}
	return out, nil
}

func (l *langchainModel) provider() string { return "langchaingo " + l.name }

// providerError turns a langchaingo client's error into a *ProviderError,
// with the status the ObserveHTTP transport saw, if any.
func (l *langchainModel) providerError(ctx context.Context, err error, obs *observation) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	status, retryAfter := obs.get()
	pe := &ProviderError{Provider: l.provider(), StatusCode: status, RetryAfter: retryAfter, Message: ShortMessage(err.Error()), Err: err}
	var le *llms.Error
	if status == 0 && errors.As(err, &le) {
		switch le.Code {
		case llms.ErrCodeAuthentication:
			pe.StatusCode = 401
		case llms.ErrCodeRateLimit, llms.ErrCodeQuotaExceeded:
			pe.StatusCode = 429
		case llms.ErrCodeProviderUnavailable:
			pe.StatusCode = 503
		case llms.ErrCodeTimeout:
			pe.StatusCode = 408
		case llms.ErrCodeInvalidRequest, llms.ErrCodeTokenLimit, llms.ErrCodeContentFilter:
			pe.StatusCode = 400
		case llms.ErrCodeResourceNotFound:
			pe.StatusCode = 404
		}
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
		pe.Message = "malformed response: " + pe.Message
	}
	return pe
}

func langchainRole(r Role) llms.ChatMessageType {
	switch r {
	case RoleSystem:
		return llms.ChatMessageTypeSystem
	case RoleAssistant:
		return llms.ChatMessageTypeAI
	case RoleTool:
		return llms.ChatMessageTypeTool
	}
	return llms.ChatMessageTypeHuman
}

// usageFromInfo reads a choice's GenerationInfo under each provider's keys.
func usageFromInfo(info map[string]any) Usage {
	get := func(keys ...string) int {
		for _, k := range keys {
			if n, ok := asInt(info[k]); ok {
				return n
			}
		}
		return 0
	}
	u := Usage{
		InputTokens:       get("PromptTokens", "input_tokens"),
		OutputTokens:      get("CompletionTokens", "OutputTokens", "output_tokens"),
		ReasoningTokens:   get("ReasoningTokens"),
		CachedInputTokens: get("PromptCachedTokens"),
	}
	if u.InputTokens == 0 { // anthropic: input excludes the cache's tokens
		read, write := get("CacheReadInputTokens"), get("CacheCreationInputTokens")
		if in := get("InputTokens"); in+read+write > 0 {
			u.InputTokens, u.CachedInputTokens, u.CacheWriteTokens = in+read+write, read, write
		}
	}
	return u
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case uint32:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// LangchainCallbacks returns hooks that report every model call Coco makes to
// a langchaingo callbacks handler, as a langchaingo model would:
// HandleLLMGenerateContentStart before the call, HandleLLMGenerateContentEnd
// or HandleLLMError after. Combine them with other hooks with CombineHooks.
func LangchainCallbacks(h callbacks.Handler) Hooks {
	return Hooks{
		OnCallStart: func(ctx context.Context, stage, model string, req Request) {
			msgs := make([]llms.MessageContent, len(req.Messages))
			for i, m := range req.Messages {
				msgs[i] = llms.TextParts(langchainRole(m.Role), m.Content)
			}
			h.HandleLLMGenerateContentStart(ctx, msgs)
		},
		OnCall: func(ctx context.Context, rec Record, resp *Response, err error) {
			if err != nil {
				h.HandleLLMError(ctx, err)
				return
			}
			cr := &llms.ContentResponse{}
			for _, s := range resp.Samples {
				cr.Choices = append(cr.Choices, &llms.ContentChoice{Content: s.Text, StopReason: s.FinishReason,
					GenerationInfo: map[string]any{InfoPromptTokens: rec.Usage.InputTokens, InfoOutputTokens: rec.Usage.OutputTokens,
						"CocoStage": rec.Stage, "CocoModel": rec.Model, InfoCost: rec.Cost.String()}})
			}
			h.HandleLLMGenerateContentEnd(ctx, cr)
		},
	}
}
