package coco

import (
	"context"
	"strings"
)

// CompressRequest is the input to a Compressor. The parts of a prompt are kept
// apart so that a compressor can treat them differently: the question is never
// dropped.
type CompressRequest struct {
	Instruction string
	Contexts    []string
	Question    string
	// Rate is the target ratio of compressed to original tokens, in (0,1];
	// 1 asks for no compression.
	Rate float64
	// Model is the LLM the text is for; token counts are in its tokenizer.
	Model string
}

// Compressed is a Compressor's output.
type Compressed struct {
	Text string
	// OriginalTokens and CompressedTokens are counted in the target model's
	// tokenizer; RequestedRate is CompressRequest.Rate and AchievedRate
	// CompressedTokens / OriginalTokens.
	OriginalTokens, CompressedTokens int
	RequestedRate, AchievedRate      float64
	// Note says why the achieved rate differs from the requested one, if it does.
	Note string
}

// Compressor shortens the input of a task before it is sent to the LLM.
// Implementations must be safe for concurrent use.
type Compressor interface {
	Compress(ctx context.Context, req CompressRequest) (*Compressed, error)
}

// IdentityCompressor compresses nothing: the text is the instruction, the
// contexts and the question joined by blank lines. It counts no tokens (the
// counts are 0) so that it costs nothing on the request path.
type IdentityCompressor struct{}

var _ Compressor = IdentityCompressor{}

// Compress implements Compressor.
func (IdentityCompressor) Compress(_ context.Context, req CompressRequest) (*Compressed, error) {
	parts := make([]string, 0, len(req.Contexts)+2)
	if req.Instruction != "" {
		parts = append(parts, req.Instruction)
	}
	for _, c := range req.Contexts {
		if c != "" {
			parts = append(parts, c)
		}
	}
	if req.Question != "" {
		parts = append(parts, req.Question)
	}
	return &Compressed{Text: strings.Join(parts, "\n\n"), RequestedRate: req.Rate, AchievedRate: 1,
		Note: "identity: nothing compressed"}, nil
}
