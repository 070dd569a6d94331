package coco

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// Option configures a Coco. Options are applied in order, and where two set the
// same thing the last one wins; New returns the first option's error.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

// config is what the options set; the zero value of each field means its
// default.
type config struct {
	router       Router
	threshold    *float64
	estimator    Estimator
	samples      int
	temperature  *float64
	slmMaxTokens int
	meter        *Meter
	prices       *PriceTable
	budget       *Money
	hooks        Hooks
	extractor    AnswerExtractor
	compressor   Compressor
	prompter     SketchPrompter
	aligner      Aligner
	strict       bool
	expand       bool
	retry        RetryPolicy
	rate         RateForConfidence
	slmCompress  bool
}

// Hooks are optional functions Coco calls as a task moves through the
// pipeline; any may be nil. They run synchronously on the goroutine of Run,
// so they must be quick and safe for concurrent use. OnCallStart receives the
// request, prompt included: a hook that logs must not print it.
type Hooks struct {
	// OnCallStart runs before every model call.
	OnCallStart func(ctx context.Context, stage, model string, req Request)
	// OnCall runs after every model call, with its record (stage, model,
	// usage, cost; empty if the call failed unbilled), its response (nil on
	// error) and its error.
	OnCall func(ctx context.Context, rec Record, resp *Response, err error)
	// OnRoute runs after the router has decided, with the confidence.
	OnRoute func(ctx context.Context, d Decision, confidence float64)
	// OnCompress runs after the compressor, when the LLM is needed.
	OnCompress func(ctx context.Context, c *Compressed)
	// OnAlign runs after the aligner, when the LLM answered.
	OnAlign func(ctx context.Context, a *Alignment)
	// OnDone runs when a task has its result.
	OnDone func(ctx context.Context, r *Result)
}

// CombineHooks returns hooks that call each of hs's hooks in order.
func CombineHooks(hs ...Hooks) Hooks {
	var out Hooks
	for _, h := range hs {
		out.OnCallStart = chain2(out.OnCallStart, h.OnCallStart, func(a, b func(context.Context, string, string, Request)) func(context.Context, string, string, Request) {
			return func(ctx context.Context, s, m string, r Request) { a(ctx, s, m, r); b(ctx, s, m, r) }
		})
		out.OnCall = chain2(out.OnCall, h.OnCall, func(a, b func(context.Context, Record, *Response, error)) func(context.Context, Record, *Response, error) {
			return func(ctx context.Context, rec Record, resp *Response, err error) {
				a(ctx, rec, resp, err)
				b(ctx, rec, resp, err)
			}
		})
		out.OnRoute = chain2(out.OnRoute, h.OnRoute, func(a, b func(context.Context, Decision, float64)) func(context.Context, Decision, float64) {
			return func(ctx context.Context, d Decision, c float64) { a(ctx, d, c); b(ctx, d, c) }
		})
		out.OnCompress = chain2(out.OnCompress, h.OnCompress, func(a, b func(context.Context, *Compressed)) func(context.Context, *Compressed) {
			return func(ctx context.Context, c *Compressed) { a(ctx, c); b(ctx, c) }
		})
		out.OnAlign = chain2(out.OnAlign, h.OnAlign, func(a, b func(context.Context, *Alignment)) func(context.Context, *Alignment) {
			return func(ctx context.Context, al *Alignment) { a(ctx, al); b(ctx, al) }
		})
		out.OnDone = chain2(out.OnDone, h.OnDone, func(a, b func(context.Context, *Result)) func(context.Context, *Result) {
			return func(ctx context.Context, r *Result) { a(ctx, r); b(ctx, r) }
		})
	}
	return out
}

// chain2 returns b if a is nil, a if b is nil, and both (by join) otherwise.
func chain2[F any](a, b F, join func(a, b F) F) F {
	if isNilFunc(a) {
		return b
	}
	if isNilFunc(b) {
		return a
	}
	return join(a, b)
}

func isNilFunc[F any](f F) bool {
	return any(f) == nil || reflect.ValueOf(f).IsNil()
}

// DefaultSamples is the number of SLM samples Coco asks for unless WithSamples
// says otherwise.
const DefaultSamples = 5

// WithSamples sets how many samples the SLM is asked for (default
// DefaultSamples). The vote estimator needs several; with 1 only logprobs can
// tell confidence. k must be between 1 and 128.
func WithSamples(k int) Option {
	return optionFunc(func(c *config) error {
		if k < 1 || k > 128 {
			return fmt.Errorf("coco: WithSamples(%d): want 1 to 128", k)
		}
		c.samples = k
		return nil
	})
}

// WithTemperature sets the SLM's sampling temperature (default 0.7 with
// several samples, the provider's default with one).
func WithTemperature(t float64) Option {
	return optionFunc(func(c *config) error {
		if math.IsNaN(t) || t < 0 || t > 2 {
			return fmt.Errorf("coco: WithTemperature(%v): want 0 to 2", t)
		}
		c.temperature = &t
		return nil
	})
}

// WithSLMMaxTokens caps each SLM sample's output tokens (default 512).
func WithSLMMaxTokens(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("coco: WithSLMMaxTokens(%d): want at least 1", n)
		}
		c.slmMaxTokens = n
		return nil
	})
}

// WithThreshold sets the threshold of the default router, a ThresholdRouter
// (default DefaultThreshold): tasks whose confidence is below it go to the LLM.
// It cannot be combined with WithRouter.
func WithThreshold(t float64) Option {
	return optionFunc(func(c *config) error {
		if math.IsNaN(t) || t < 0 {
			return fmt.Errorf("coco: WithThreshold(%v): want a number from 0 up", t)
		}
		c.threshold = &t
		return nil
	})
}

// WithRouter replaces the default router (a ThresholdRouter at
// DefaultThreshold).
func WithRouter(r Router) Option {
	return optionFunc(func(c *config) error {
		if r == nil {
			return errors.New("coco: WithRouter(nil)")
		}
		c.router = r
		return nil
	})
}

// WithEstimator replaces the default confidence estimator (DefaultEstimator:
// logprobs and votes).
func WithEstimator(e Estimator) Option {
	return optionFunc(func(c *config) error {
		if e == nil {
			return errors.New("coco: WithEstimator(nil)")
		}
		c.estimator = e
		return nil
	})
}

// WithMeter makes Coco record its calls on m, which may be shared with other
// Coco instances and code (one budget for all). It cannot be combined with
// WithPrices or WithBudget: set those on the meter.
func WithMeter(m *Meter) Option {
	return optionFunc(func(c *config) error {
		if m == nil {
			return errors.New("coco: WithMeter(nil)")
		}
		c.meter = m
		return nil
	})
}

// WithPrices sets the price table of the meter New builds (default
// DefaultPrices()).
func WithPrices(t *PriceTable) Option {
	return optionFunc(func(c *config) error {
		if t == nil {
			return errors.New("coco: WithPrices(nil)")
		}
		c.prices = t
		return nil
	})
}

// WithBudget sets the budget of the meter New builds (default: none). When it
// is spent, tasks keep the SLM's answer, marked degraded, unless WithStrict.
func WithBudget(b Money) Option {
	return optionFunc(func(c *config) error {
		if b < 0 {
			return fmt.Errorf("coco: WithBudget(%s): negative budget", b)
		}
		c.budget = &b
		return nil
	})
}

// WithStrict makes Run fail instead of degrading: when the LLM is needed but
// the budget is spent or the LLM call fails, Run returns the error rather than
// the SLM's answer marked degraded. Default false.
func WithStrict(strict bool) Option {
	return optionFunc(func(c *config) error {
		c.strict = strict
		return nil
	})
}

// WithHooks sets the hooks (default: none).
func WithHooks(h Hooks) Option {
	return optionFunc(func(c *config) error {
		c.hooks = h
		return nil
	})
}

// WithAnswerExtractor replaces the default answer extraction and normalisation
// (StandardAnswers).
func WithAnswerExtractor(x AnswerExtractor) Option {
	return optionFunc(func(c *config) error {
		if x == nil {
			return errors.New("coco: WithAnswerExtractor(nil)")
		}
		c.extractor = x
		return nil
	})
}

// WithCompressor sets the compressor of the LLM's input (default
// ExtractiveCompressor). IdentityCompressor turns compression off.
func WithCompressor(x Compressor) Option {
	return optionFunc(func(c *config) error {
		if x == nil {
			return errors.New("coco: WithCompressor(nil)")
		}
		c.compressor = x
		return nil
	})
}

// WithSketchPrompter sets how the LLM is prompted and its text parsed
// (default SketchPrompt: a short sketch and the answer after "####").
func WithSketchPrompter(p SketchPrompter) Option {
	return optionFunc(func(c *config) error {
		if p == nil {
			return errors.New("coco: WithSketchPrompter(nil)")
		}
		c.prompter = p
		return nil
	})
}

// WithAligner sets how the rationale is built from both models' reasoning
// (default StepAligner).
func WithAligner(a Aligner) Option {
	return optionFunc(func(c *config) error {
		if a == nil {
			return errors.New("coco: WithAligner(nil)")
		}
		c.aligner = a
		return nil
	})
}

// WithSLMExpansion makes the SLM rewrite the fused rationale in full sentences
// when the LLM answered (default false). It costs one more SLM call, metered
// under StageAlign; a rewrite that changes the answer is discarded.
func WithSLMExpansion(expand bool) Option {
	return optionFunc(func(c *config) error {
		c.expand = expand
		return nil
	})
}

// WithCompressionRate sets how the SLM's confidence maps to the compression
// rate of the LLM's input (default ConfidenceRate{}: from no compression at
// confidence 0 to half the context at confidence 1, and none below 300
// tokens).
func WithCompressionRate(r RateForConfidence) Option {
	return optionFunc(func(c *config) error {
		if r == nil {
			return errors.New("coco: WithCompressionRate(nil)")
		}
		c.rate = r
		return nil
	})
}

// WithSLMCompression makes the SLM guide the compression of the LLM's input
// (an SLMCompressor on Coco's SLM and meter, its calls metered under
// StageCompress) instead of the extractive default. It cannot be combined
// with WithCompressor.
func WithSLMCompression(on bool) Option {
	return optionFunc(func(c *config) error {
		c.slmCompress = on
		return nil
	})
}
