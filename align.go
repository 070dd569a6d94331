package coco

import "context"

// Alignment is an Aligner's output: the rationale the caller gets.
type Alignment struct {
	Rationale string
}

// Aligner fuses the SLM's attempt and the LLM's answer text into one rationale
// that ends in the final answer. slm may be nil when the SLM failed.
// Implementations must be safe for concurrent use.
type Aligner interface {
	Align(ctx context.Context, slm *Attempt, llmText string) (*Alignment, error)
}

// LLMRationale is the pass-through Aligner: the rationale is the LLM's text as
// it came. It is the default until logic alignment lands.
type LLMRationale struct{}

var _ Aligner = LLMRationale{}

// Align implements Aligner.
func (LLMRationale) Align(_ context.Context, _ *Attempt, llmText string) (*Alignment, error) {
	return &Alignment{Rationale: llmText}, nil
}
