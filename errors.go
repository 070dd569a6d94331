package coco

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Every error the package returns either is one of these or wraps
// one, so callers test with errors.Is; stage failures come as a *StageError.
var (
	// ErrUnknownPrice means a model has no entry in the price table. The package
	// never prices an unknown model at $0 unless the caller asks for it with
	// MeterOptions.AllowUnpriced.
	ErrUnknownPrice = errors.New("coco: unknown model price")

	// ErrBudgetExceeded means a call's worst-case cost does not fit in what is
	// left of the budget. The call was not sent.
	ErrBudgetExceeded = errors.New("coco: budget exceeded")

	// ErrNoOutputLimit means a budget is set but the request has no MaxTokens and
	// the price table knows no output limit for the model, so the call's
	// worst-case cost cannot be bounded. The call was not sent.
	ErrNoOutputLimit = errors.New("coco: no output token limit to bound the cost")

	// ErrUnnamedModel means a model's name was needed (to price it before sending)
	// but the Model does not implement Namer. Wrap it with NamedModel.
	ErrUnnamedModel = errors.New("coco: model has no name")

	// ErrOverflow means an amount of money left the range of Money
	// (about ±9.2 million dollars).
	ErrOverflow = errors.New("coco: money overflow")

	// ErrInvalidPrice means a price entry is malformed: negative, not a number,
	// or of the wrong type.
	ErrInvalidPrice = errors.New("coco: invalid price")

	// ErrEmptyResponse means a model returned no samples.
	ErrEmptyResponse = errors.New("coco: empty model response")
)

// StageError is the error of one pipeline stage's call to one model. It never
// carries the prompt or an API key.
type StageError struct {
	Stage string // the stage, e.g. "slm", "llm", "compress"
	Model string // the model's name, if known
	Err   error  // the cause
}

func (e *StageError) Error() string {
	if e.Model == "" {
		return fmt.Sprintf("coco: %s: %v", e.Stage, trimPrefix(e.Err))
	}
	return fmt.Sprintf("coco: %s (%s): %v", e.Stage, e.Model, trimPrefix(e.Err))
}

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// trimPrefix keeps "coco: " from appearing twice when a StageError wraps one of
// the package's own errors.
func trimPrefix(err error) string {
	s := err.Error()
	const p = "coco: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// Sentinels for provider errors; a *ProviderError matches the one of its
// status (errors.Is(err, ErrRateLimited)).
var (
	// ErrUnauthorized: the provider refused the credentials (401, 403).
	ErrUnauthorized = errors.New("coco: provider refused the credentials")
	// ErrRateLimited: the provider asks to slow down (429).
	ErrRateLimited = errors.New("coco: provider rate limit")
	// ErrProviderUnavailable: the provider failed or timed out (408, 5xx).
	ErrProviderUnavailable = errors.New("coco: provider unavailable")
	// ErrBadResponse: the provider's response could not be read (malformed
	// JSON, a truncated stream, an empty answer).
	ErrBadResponse = errors.New("coco: unreadable provider response")
)

// ProviderError is an error response from a model provider, or a response that
// could not be read. Its message never holds the request, the prompt or a key.
type ProviderError struct {
	Provider   string        // "openai-compatible", "ollama", ...
	StatusCode int           // the HTTP status; 0 when there was no readable response
	RetryAfter time.Duration // the provider's Retry-After, 0 if it sent none
	Message    string        // the provider's own message, shortened
	Err        error         // the underlying error, if any
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "coco: %s", e.Provider)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %s", trimPrefix(e.Err))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ProviderError) Unwrap() error { return e.Err }

// Is matches the sentinel of e's status.
func (e *ProviderError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == 401 || e.StatusCode == 403
	case ErrRateLimited:
		return e.StatusCode == 429
	case ErrProviderUnavailable:
		return e.StatusCode == 408 || e.StatusCode >= 500
	case ErrBadResponse:
		return e.StatusCode == 0 || (e.StatusCode >= 200 && e.StatusCode < 300)
	}
	return false
}

// Retryable reports whether the same request may succeed later: rate limits,
// timeouts, server errors and unreadable responses are; other 4xx are not.
func (e *ProviderError) Retryable() bool {
	return e.Is(ErrRateLimited) || e.Is(ErrProviderUnavailable) || e.Is(ErrBadResponse)
}

// ShortMessage trims a provider's message to one line of at most 200 bytes
// (cut at a rune boundary), for ProviderError.Message.
func ShortMessage(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= 200 {
		return s
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
