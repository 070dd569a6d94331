package coco

import (
	"errors"
	"fmt"
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
