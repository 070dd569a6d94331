package coco_test

import (
	"context"
	"testing"

	"github.com/coco-llm/coco"
)

// instant answers at once from memory and reports its usage, so that a
// benchmark of Run measures the pipeline's own work.
func instant(name string, texts ...string) coco.Model {
	samples := make([]coco.Sample, len(texts))
	for i, t := range texts {
		samples[i] = coco.Sample{Text: t}
	}
	return coco.NamedModel(name, coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
		n := min(req.SampleCount(), len(samples))
		return &coco.Response{Model: name, Samples: samples[:n], Usage: coco.Usage{InputTokens: 40, OutputTokens: 30 * n}}, nil
	}))
}

// BenchmarkRun measures the pipeline's overhead per task with instant models:
// compare its ns/op with BenchmarkTokenizeTaskTwice, the cost of counting the
// task's prompt twice, which the overhead must stay below.
func BenchmarkRun(b *testing.B) {
	confident := instant("llama3.2:3b", "Yesterday was April 30, 2021, so today is May 1, 2021.\nA: 05/01/2021",
		"Today is May 1, 2021.\nA: 05/01/2021", "A: 5/1/2021", "So it is May 1.\nA: 05/01/2021", "A: 05/01/2021")
	unsure := instant("llama3.2:3b", "A: 05/01/2021", "A: 04/30/2021", "A: 05/02/2021", "A: 05/01/2021", "A: 06/01/2021")
	llm := instant("gpt-4o", "Apr 30 + 1 day.\nA: 05/01/2021")
	for _, bc := range []struct {
		name string
		slm  coco.Model
	}{{"slm-route", confident}, {"llm-route", unsure}} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := coco.New(bc.slm, llm)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Run(ctx, task); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokenizeTaskTwice is the yardstick of BenchmarkRun: counting the
// task's chat prompt twice in the LLM's tokenizer.
func BenchmarkTokenizeTaskTwice(b *testing.B) {
	msgs := []coco.Message{{Role: coco.RoleSystem, Content: "Solve the task. Reason step by step, briefly, then write the final answer alone on the last line as \"A: <answer>\"."},
		{Role: coco.RoleUser, Content: task}}
	if _, err := coco.CountChatTokens("gpt-4o", msgs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for range 2 {
			if _, err := coco.CountChatTokens("gpt-4o", msgs); err != nil {
				b.Fatal(err)
			}
		}
	}
}
