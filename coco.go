package coco

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrEmptyTask means Run was given a task with no text.
var ErrEmptyTask = errors.New("coco: empty task")

// Coco answers tasks with an SLM when the SLM is confident and with an LLM when
// it is not, metering every call.
//
// Run asks the SLM for k samples, extracts and normalises their answers,
// scores the confidence of the majority answer, and asks the router. If the
// router keeps the SLM, the answer is the SLM's majority answer. Otherwise the
// task is compressed, prompted and sent to the LLM, and the rationale is built
// by the aligner. A *Coco is safe for concurrent use; build it with New.
type Coco struct {
	slm, llm           Model
	slmName, llmName   string
	cfg                config
	router             Router
	meter              *Meter
	directPromptTokens int // LLM tokens of the direct prompt without the task
}

// New returns a Coco that answers with slm when it can and with llm when it
// must. Both models must be named (see Namer and NamedModel) and priced in the
// meter's price table, so that no call is priced at a silent $0.
func New(slm, llm Model, opts ...Option) (*Coco, error) {
	if slm == nil || llm == nil {
		return nil, errors.New("coco: New needs two non-nil models")
	}
	c := &Coco{slm: slm, llm: llm, slmName: ModelName(slm), llmName: ModelName(llm)}
	if c.slmName == "" || c.llmName == "" {
		return nil, fmt.Errorf("%w: New needs named models (wrap them with NamedModel)", ErrUnnamedModel)
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("coco: nil Option")
		}
		if err := o.apply(&c.cfg); err != nil {
			return nil, err
		}
	}
	cfg := &c.cfg
	if cfg.router != nil && cfg.threshold != nil {
		return nil, errors.New("coco: WithThreshold sets the default router's threshold and cannot be combined with WithRouter")
	}
	if cfg.meter != nil && (cfg.prices != nil || cfg.budget != nil) {
		return nil, errors.New("coco: WithPrices and WithBudget configure the meter New builds; with WithMeter, set them on that meter")
	}
	c.router = cfg.router
	if c.router == nil {
		t := DefaultThreshold
		if cfg.threshold != nil {
			t = *cfg.threshold
		}
		c.router = ThresholdRouter{Threshold: t}
	}
	if cfg.estimator == nil {
		cfg.estimator = DefaultEstimator()
	}
	if cfg.samples == 0 {
		cfg.samples = DefaultSamples
	}
	if cfg.temperature == nil && cfg.samples > 1 {
		t := 0.7
		cfg.temperature = &t
	}
	cfg.retry = cfg.retry.withDefaults()
	if cfg.slmMaxTokens == 0 {
		cfg.slmMaxTokens = 512
	}
	if cfg.extractor == nil {
		cfg.extractor = StandardAnswers{}
	}
	if cfg.slmCompress && cfg.compressor != nil {
		return nil, errors.New("coco: WithSLMCompression and WithCompressor both set the compressor")
	}
	if cfg.rate == nil {
		cfg.rate = ConfidenceRate{}
	}
	if cfg.prompter == nil {
		cfg.prompter = SketchPrompt{}
	}
	if cfg.aligner == nil {
		cfg.aligner = StepAligner{Extractor: cfg.extractor}
	}
	c.meter = cfg.meter
	if c.meter == nil {
		mo := MeterOptions{Prices: cfg.prices}
		if cfg.budget != nil {
			mo.Budget = *cfg.budget
		}
		m, err := NewMeter(mo)
		if err != nil {
			return nil, err
		}
		c.meter = m
	}
	if cfg.compressor == nil {
		cfg.compressor = ExtractiveCompressor{Counter: c.meter.opts.Counter}
		if cfg.slmCompress {
			cfg.compressor = SLMCompressor{Model: slm, Meter: c.meter, Counter: c.meter.opts.Counter}
		}
	}
	for _, name := range []string{c.slmName, c.llmName} {
		if _, _, err := c.meter.price(name); err != nil {
			return nil, err
		}
	}
	n, err := c.meter.opts.Counter.CountChat(c.llmName, directMessages(""))
	if err != nil {
		return nil, err
	}
	c.directPromptTokens = n.Tokens
	return c, nil
}

// Meter returns the meter Coco records its calls on.
func (c *Coco) Meter() *Meter { return c.meter }

// Result is the outcome of one task.
type Result struct {
	// Answer is the final answer as the answering model wrote it, and
	// Normalized its normal form (see AnswerExtractor).
	Answer, Normalized string
	// Rationale is the reasoning that leads to Answer: the SLM sample that
	// gave it, or the aligner's fused rationale when the LLM answered
	// (rewritten in full sentences by the SLM with WithSLMExpansion).
	Rationale string

	// Route is the model whose answer this is, and Reason why.
	Route  Route
	Reason string
	// Confidence is the estimator's score of the SLM's answer, in [0,1]; 0
	// when there was nothing to score (see Degraded).
	Confidence float64

	// SLM is the SLM's attempt (nil if the SLM call failed); SLMAnswer its
	// majority answer, normalised. LLMAnswer is the LLM's answer, normalised,
	// if the LLM was called.
	SLM                  *Attempt
	SLMAnswer, LLMAnswer string
	// Compression reports what the compressor did, if the LLM was called.
	Compression *Compressed
	// Sketch is the LLM's reasoning steps and answer, and Alignment how they
	// align with the SLM's (its Score and step kinds), when the LLM answered.
	Sketch    *Sketch
	Alignment *Alignment

	// Calls holds every metered call the task made, in order; Usage and Cost
	// add them up.
	Calls []Record
	Usage Usage
	Cost  Money
	// LLMOnlyCost estimates what the task would have cost sent straight to the
	// LLM: the direct prompt's tokens, counted in the LLM's tokenizer, and as
	// many output tokens as an average SLM sample (the LLM's own output
	// tokens when there is no SLM sample). Saved is LLMOnlyCost - Cost; it is
	// negative when Coco cost more.
	LLMOnlyCost, Saved Money

	taskTokens int // the task's tokens in the LLM's tokenizer

	// Retries counts the model calls that were made again after a retryable
	// failure (see RetryPolicy).
	Retries int

	// Estimated lists what was estimated rather than measured, and Degraded
	// what did not go as designed, each a line a person can read.
	Estimated, Degraded []string
}

// StageCost returns the usage and cost of the task's calls of one stage.
func (r *Result) StageCost(stage string) (Usage, Money) {
	var u Usage
	var m Money
	for _, rec := range r.Calls {
		if rec.Stage == stage {
			u = u.Add(rec.Usage)
			m += rec.Cost
		}
	}
	return u, m
}

// Run answers one task. It returns an error when the task is invalid (empty,
// not UTF-8, too large for the LLM's context window), when the context ends,
// when no model could answer, and, with WithStrict, when the LLM was needed
// but could not be used; otherwise a Result, whose Degraded field says what
// went wrong on the way.
//
// A Run that fails after it made model calls returns, with the error, a
// partial Result whose Calls, Usage and Cost account for what those calls
// spent (its other fields say how far the task got); one that fails before
// any call returns a nil Result.
//
// What fails, and what Run does:
//   - the SLM call fails (after retries): the task goes to the LLM, marked
//     in Degraded;
//   - the LLM call fails (after retries), the budget is spent, or the LLM's
//     text has no answer: the SLM's answer, marked, or the error with
//     WithStrict or when the SLM has no answer either;
//   - the compressor fails: the task goes to the LLM uncompressed, marked;
//   - the aligner fails: the rationale is the LLM's text, marked;
//   - the context ends: its error, at whatever stage, with nothing left
//     running.
func (c *Coco) Run(ctx context.Context, task string) (*Result, error) {
	return c.run(ctx, taskInput{text: task}, overrides{})
}

// Task is a task given in parts, for RunTask.
type Task struct {
	Instruction string
	Contexts    []Context
	Question    string
	// Keep lists spans of the contexts that compression must keep verbatim.
	Keep []string
}

// RunTask answers a task given in parts. The models see the parts joined by
// blank lines (instruction, contexts, question); the compressor of the LLM's
// input gets them apart, with Contexts marked Fixed left whole and the Keep
// spans kept verbatim. Run is RunTask on a text that SplitTask cuts into
// contexts and question. Errors and results are as Run's.
func (c *Coco) RunTask(ctx context.Context, t Task) (*Result, error) {
	ctxs := make([]string, len(t.Contexts))
	for i, x := range t.Contexts {
		ctxs[i] = x.Text
	}
	parts := CompressRequest{Instruction: t.Instruction, Contexts: t.Contexts, Question: t.Question, Keep: t.Keep}
	return c.run(ctx, taskInput{text: joinPrompt(t.Instruction, ctxs, t.Question), parts: &parts}, overrides{})
}

// taskInput is a task as text, and in parts when the caller gave them.
type taskInput struct {
	text  string
	parts *CompressRequest
}

// overrides are per-call settings from a langchaingo call: they cap or set
// what every model call of the task asks for.
type overrides struct {
	maxTokens   int      // caps each call's MaxTokens; 0: no cap
	temperature *float64 // the SLM's sampling temperature
	stop        []string // stop sequences of every call
}

func (o overrides) apply(req Request, slm bool) Request {
	if o.maxTokens > 0 && (req.MaxTokens == 0 || o.maxTokens < req.MaxTokens) {
		req.MaxTokens = o.maxTokens
	}
	if slm && o.temperature != nil {
		req.Temperature = o.temperature
	}
	if len(o.stop) > 0 {
		req.Stop = append(append([]string(nil), req.Stop...), o.stop...)
	}
	return req
}

// MaxTaskBytes bounds the text of one task; a longer one is ErrTaskTooLarge
// before anything is counted or sent.
const MaxTaskBytes = 32 << 20

// ErrTaskTooLarge means a task does not fit the LLM's context window (from the
// price table) or exceeds MaxTaskBytes. Nothing was sent.
var ErrTaskTooLarge = errors.New("coco: task too large")

func (c *Coco) run(ctx context.Context, in taskInput, o overrides) (*Result, error) {
	task := in.text
	if strings.TrimSpace(task) == "" {
		return nil, ErrEmptyTask
	}
	if !utf8.ValidString(task) {
		return nil, errors.New("coco: task is not valid UTF-8")
	}
	if len(task) > MaxTaskBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTaskTooLarge, len(task), MaxTaskBytes)
	}
	// The task's tokens in the LLM's tokenizer: checked against its context
	// window now, and used for the LLM-only estimate at the end.
	taskTokens, err := c.meter.opts.Counter.Count(c.llmName, task)
	if err != nil {
		return nil, err
	}
	if p, _, err := c.meter.price(c.llmName); err == nil && p.ContextWindow > 0 && c.directPromptTokens+taskTokens.Tokens > p.ContextWindow {
		return nil, fmt.Errorf("%w: about %d tokens, and %s takes %d", ErrTaskTooLarge, c.directPromptTokens+taskTokens.Tokens, c.llmName, p.ContextWindow)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Result{taskTokens: taskTokens.Tokens}
	if err := c.answer(ctx, in, r, o); err != nil {
		c.total(r)
		if len(r.Calls) == 0 {
			return nil, err
		}
		return r, err
	}
	c.total(r)
	c.estimateLLMOnly(r, taskTokens.Tokens)
	if c.cfg.hooks.OnDone != nil {
		c.cfg.hooks.OnDone(ctx, r)
	}
	return r, nil
}

// answer runs the pipeline for one task into r.
func (c *Coco) answer(ctx context.Context, in taskInput, r *Result, o overrides) error {
	attempt, slmErr := c.attemptSLM(ctx, in.text, r, o)
	if slmErr != nil && ctx.Err() != nil {
		return slmErr
	}

	var d Decision
	if attempt == nil {
		d = Decision{Route: RouteLLM, Reason: "the SLM failed"}
		r.Degraded = append(r.Degraded, "SLM call failed: "+errorLine(slmErr))
	} else {
		conf, ok := c.cfg.estimator.Estimate(attempt)
		if !ok {
			r.Degraded = append(r.Degraded, "no confidence signal: the estimator had nothing to score")
		}
		r.Confidence = clamp01(conf)
		var err error
		d, err = c.router.Route(ctx, attempt, r.Confidence)
		if err != nil {
			return &StageError{Stage: "route", Err: err}
		}
		if d.Route != RouteSLM && d.Route != RouteLLM {
			return &StageError{Stage: "route", Err: fmt.Errorf("router returned unknown route %q", d.Route)}
		}
	}
	if c.cfg.hooks.OnRoute != nil {
		c.cfg.hooks.OnRoute(ctx, d, r.Confidence)
	}

	r.Route, r.Reason = d.Route, d.Reason
	if d.Route == RouteLLM {
		return c.answerFromLLM(ctx, in, r, attempt, o)
	}
	c.answerFromSLM(r, attempt)
	if r.SLMAnswer == "" {
		r.Degraded = append(r.Degraded, "the router kept the SLM, which gave no answer")
	}
	return nil
}

// attemptSLM asks the SLM for its samples and extracts their answers; it
// returns nil only when the call failed. An attempt without any answer scores
// no confidence and so goes to the LLM.
func (c *Coco) attemptSLM(ctx context.Context, task string, r *Result, o overrides) (*Attempt, error) {
	req := o.apply(Request{Messages: directMessages(task), MaxTokens: c.cfg.slmMaxTokens,
		Samples: c.cfg.samples, Temperature: c.cfg.temperature, Logprobs: true}, true)
	resp, err := c.call(ctx, r, StageSLM, c.slm, c.slmName, req)
	if err != nil {
		return nil, err
	}
	a := &Attempt{Task: task, Samples: resp.Samples,
		Answers: make([]string, len(resp.Samples)), Raw: make([]string, len(resp.Samples))}
	for i, s := range resp.Samples {
		a.Raw[i] = c.cfg.extractor.Extract(s.Text)
		a.Answers[i] = c.cfg.extractor.Normalize(a.Raw[i])
	}
	r.SLM = a
	r.SLMAnswer, _ = a.Majority()
	if len(resp.Samples) < c.cfg.samples {
		r.Degraded = append(r.Degraded, fmt.Sprintf("SLM returned %d of %d samples", len(resp.Samples), c.cfg.samples))
	}
	return a, nil
}

// call makes a metered model call, retried as the RetryPolicy says; it tells
// the hooks of every attempt and keeps every billed attempt's record on the
// result (a failed attempt that was not billed has no record).
func (c *Coco) call(ctx context.Context, r *Result, stage string, m Model, name string, req Request) (*Response, error) {
	for attempt := 1; ; attempt++ {
		if c.cfg.hooks.OnCallStart != nil {
			c.cfg.hooks.OnCallStart(ctx, stage, name, req)
		}
		resp, rec, err := c.meter.Call(ctx, stage, m, req)
		if rec.Stage != "" {
			r.Calls = append(r.Calls, rec)
		}
		if c.cfg.hooks.OnCall != nil {
			c.cfg.hooks.OnCall(ctx, rec, resp, err)
		}
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt >= c.cfg.retry.MaxAttempts || !retryable(err) {
			return nil, err
		}
		d, ok := c.cfg.retry.delay(ctx, attempt, err)
		if !ok {
			return nil, err
		}
		r.Retries++
		if err := c.cfg.retry.Sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

func (c *Coco) answerFromSLM(r *Result, a *Attempt) {
	majority, _ := a.Majority()
	for i, ans := range a.Answers {
		if ans == majority {
			r.Answer, r.Normalized, r.Rationale = a.Raw[i], ans, a.Samples[i].Text
			return
		}
	}
}

func (c *Coco) answerFromLLM(ctx context.Context, in taskInput, r *Result, a *Attempt, o overrides) error {
	comp := c.compress(ctx, in, r)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.Compression = comp
	if c.cfg.hooks.OnCompress != nil {
		c.cfg.hooks.OnCompress(ctx, comp)
	}
	req := o.apply(c.cfg.prompter.Prompt(comp.Text, a), false)
	resp, err := c.call(ctx, r, StageLLM, c.llm, c.llmName, req)
	if err != nil {
		if ctx.Err() != nil || c.cfg.strict || a == nil || r.SLMAnswer == "" {
			return err
		}
		why := "LLM call failed"
		if errors.Is(err, ErrBudgetExceeded) {
			why = "budget spent"
		}
		r.Degraded = append(r.Degraded, why+", SLM answer kept: "+errorLine(err))
		r.Route, r.Reason = RouteSLM, why+"; the router wanted the LLM ("+r.Reason+")"
		c.answerFromSLM(r, a)
		return nil
	}
	text := resp.Samples[0].Text
	sk, err := c.cfg.prompter.Parse(text)
	if err != nil || sk == nil {
		if c.cfg.strict || a == nil || r.SLMAnswer == "" {
			return &StageError{Stage: StageLLM, Model: c.llmName, Err: fmt.Errorf("parsing the answer: %w", err)}
		}
		r.Degraded = append(r.Degraded, "no answer in the LLM's text, SLM answer kept: "+errorLine(err))
		r.Route, r.Reason = RouteSLM, "the LLM gave no answer; the router wanted the LLM ("+r.Reason+")"
		c.answerFromSLM(r, a)
		return nil
	}
	r.Sketch = sk
	r.Answer, r.Normalized = sk.Answer, c.cfg.extractor.Normalize(sk.Answer)
	r.LLMAnswer = r.Normalized
	if !sk.Separated {
		r.Degraded = append(r.Degraded, "the LLM did not use the answer separator; its answer was found by fallback")
	}
	al, err := c.cfg.aligner.Align(ctx, a, sk)
	if err != nil || al == nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.Degraded = append(r.Degraded, "aligner failed, rationale is the LLM's text: "+errorLine(err))
		al = &Alignment{Rationale: text, Answer: sk.Answer}
	}
	r.Alignment = al
	r.Rationale = al.Rationale
	if c.cfg.hooks.OnAlign != nil {
		c.cfg.hooks.OnAlign(ctx, al)
	}
	if c.cfg.expand {
		c.expand(ctx, r, o)
	}
	return nil
}

// compress shortens the task for the LLM at the rate the SLM's confidence
// calls for. A rate of 1 skips the compressor (and its token counting); a
// failing compressor leaves the task whole, marked degraded.
func (c *Coco) compress(ctx context.Context, in taskInput, r *Result) *Compressed {
	task := in.text
	var req CompressRequest
	if in.parts != nil {
		req = *in.parts
	} else {
		req = SplitTask(task)
	}
	req.Model = c.llmName
	req.Rate = c.cfg.rate.Rate(r.Confidence, r.taskTokens)
	if req.Rate >= 1 || len(req.Contexts) == 0 {
		return &Compressed{Text: task, RequestedRate: 1, AchievedRate: 1,
			Note: fmt.Sprintf("not compressed: rate 1 for %d tokens at confidence %.2f, or no context apart from the question", r.taskTokens, r.Confidence)}
	}
	comp, err := c.cfg.compressor.Compress(ctx, req)
	if comp != nil {
		r.Calls = append(r.Calls, comp.Calls...)
	}
	if err != nil || comp == nil {
		if ctx.Err() == nil {
			r.Degraded = append(r.Degraded, "compressor failed, input sent uncompressed: "+errorLine(err))
		}
		return &Compressed{Text: task, RequestedRate: req.Rate, AchievedRate: 1, Note: "compressor failed"}
	}
	return comp
}

// expandInstruction asks the SLM to turn a terse rationale into prose.
const expandInstruction = "Rewrite the reasoning below as a short explanation in full sentences. " +
	"Keep every number, date and name exactly as written, add no new steps, and end with the line \"A: <answer>\" giving the same answer."

// expand has the SLM rewrite the fused rationale in full sentences, metered
// under StageAlign. The rewrite replaces the rationale only if it ends in the
// same answer; otherwise the terse rationale stays, marked degraded.
func (c *Coco) expand(ctx context.Context, r *Result, o overrides) {
	req := o.apply(Request{Messages: []Message{{Role: RoleSystem, Content: expandInstruction}, {Role: RoleUser, Content: r.Rationale}},
		MaxTokens: c.cfg.slmMaxTokens, Samples: 1}, false)
	resp, err := c.call(ctx, r, StageAlign, c.slm, c.slmName, req)
	if err != nil {
		r.Degraded = append(r.Degraded, "SLM expansion of the rationale failed: "+errorLine(err))
		return
	}
	text := resp.Samples[0].Text
	if c.cfg.extractor.Normalize(c.cfg.extractor.Extract(text)) != r.Normalized {
		r.Degraded = append(r.Degraded, "SLM expansion changed the answer; the terse rationale is kept")
		return
	}
	r.Rationale = text
}

// total adds up the task's calls.
func (c *Coco) total(r *Result) {
	r.Usage, r.Cost = Usage{}, 0
	for _, rec := range r.Calls {
		r.Usage = r.Usage.Add(rec.Usage)
		r.Cost += rec.Cost
	}
	if r.Usage.Estimated {
		r.Estimated = append(r.Estimated, "some token counts were made locally, or with a tokenizer not the model's own")
	}
}

// estimateLLMOnly prices the LLM-only counterfactual: the direct prompt of
// taskTokens and the output of an average SLM sample (or of the LLM's answer
// when there is no SLM sample).
func (c *Coco) estimateLLMOnly(r *Result, taskTokens int) {
	p, _, err := c.meter.price(c.llmName)
	if err != nil { // checked in New; the table may have changed since
		r.Estimated = append(r.Estimated, "LLM-only cost unknown: "+errorLine(err))
		return
	}
	out, basis := 0, "an average SLM sample"
	if slmU, _ := r.StageCost(StageSLM); r.SLM != nil && len(r.SLM.Samples) > 0 {
		out = slmU.OutputTokens / len(r.SLM.Samples)
	} else {
		llmU, _ := r.StageCost(StageLLM)
		out, basis = llmU.OutputTokens, "the LLM's answer"
	}
	cost, err := p.Cost(Usage{InputTokens: c.directPromptTokens + taskTokens, OutputTokens: out})
	if err != nil {
		r.Estimated = append(r.Estimated, "LLM-only cost unknown: "+errorLine(err))
		return
	}
	r.LLMOnlyCost, r.Saved = cost, cost-r.Cost
	r.Estimated = append(r.Estimated, "LLMOnlyCost: output tokens assumed to be as many as "+basis)
}

func clamp01(x float64) float64 {
	switch {
	case x != x || x < 0: // NaN counts as no confidence
		return 0
	case x > 1:
		return 1
	}
	return x
}

// errorLine returns err's message, or "unknown error" for nil.
func errorLine(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}
