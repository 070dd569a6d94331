// Command quickstart runs Coco's pipeline offline.
//
// The models are replayed from testdata/quickstart-trace.jsonl, a small trace
// the project wrote by hand: SCRIPTED ANSWERS standing in for a local
// llama3.2:3b (the SLM, $0) and gpt-4o (the LLM, priced from the default
// table). No network, no API key. For each task it prints the route Coco took,
// the SLM's confidence, the answer and the cost; then the meter's table and
// the saving against sending every task to the LLM.
//
// Run it from the repository's root: go run ./examples/quickstart
//
// With COCO_SLM_MODEL and COCO_LLM_MODEL set, and a base URL for each
// (COCO_BASE_URL, or COCO_SLM_BASE_URL and COCO_LLM_BASE_URL; keys in
// COCO_API_KEY or COCO_SLM_API_KEY and COCO_LLM_API_KEY), it asks the same
// questions of those OpenAI-compatible endpoints instead: real calls, real
// money. Models missing from the price table are recorded at $0 and the
// report lists them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/openaicompat"
	"github.com/coco-llm/coco/replay"
)

func main() {
	tracePath := flag.String("trace", "testdata/quickstart-trace.jsonl", "trace of scripted answers to replay")
	flag.Parse()
	if err := run(*tracePath); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(tracePath string) error {
	trace, err := replay.Load(tracePath)
	if err != nil {
		return fmt.Errorf("%w (run from the repository's root, or pass -trace)", err)
	}
	var slm, llm interface {
		coco.Model
		Name() string
	} = trace.SLM(), trace.LLM()
	opts := []coco.Option{coco.WithSamples(5), coco.WithBudget(coco.Dollars(1))}
	source := "scripted answers replayed from " + tracePath
	liveSLM, liveLLM, live, err := openaicompat.ModelsFromEnv()
	if err != nil {
		return err
	}
	if live {
		slm, llm = liveSLM, liveLLM
		meter, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(1), AllowUnpriced: true})
		if err != nil {
			return err
		}
		opts = []coco.Option{coco.WithSamples(5), coco.WithMeter(meter)}
		source = fmt.Sprintf("LIVE: %s and %s (the questions of %s)", liveSLM, liveLLM, tracePath)
	}
	c, err := coco.New(slm, llm, opts...)
	if err != nil {
		return err
	}

	fmt.Printf("Coco quickstart: %s\n", source)
	fmt.Printf("SLM %s (%d samples a task), LLM %s, threshold %.2f\n\n", slm.Name(), 5, llm.Name(), coco.DefaultThreshold)
	fmt.Printf("%-4s %-5s %10s  %-12s %-7s %11s %11s\n", "task", "route", "confidence", "answer", "right", "cost", "LLM-only")
	var x coco.StandardAnswers
	var cost, llmOnly coco.Money
	right := 0
	for i, task := range trace.Tasks {
		r, err := c.Run(context.Background(), task.Question)
		if err != nil {
			return err
		}
		ok := r.Normalized == x.Normalize(task.Gold)
		if ok {
			right++
		}
		cost += r.Cost
		llmOnly += r.LLMOnlyCost
		fmt.Printf("%-4d %-5s %10.3f  %-12s %-7v %11s %11s\n", i+1, r.Route, r.Confidence, r.Answer, ok, r.Cost, r.LLMOnlyCost)
		if r.Alignment != nil {
			fmt.Printf("     LLM sketch of %d steps; alignment with the SLM %.2f; rationale:\n", len(r.Sketch.Steps), r.Alignment.Score)
			fmt.Printf("       %s\n", strings.ReplaceAll(r.Rationale, "\n", "\n       "))
		}
		for _, d := range r.Degraded {
			fmt.Printf("     degraded: %s\n", d)
		}
	}
	fmt.Printf("\n%d of %d answers right.\n\n", right, len(trace.Tasks))
	fmt.Print(c.Meter().Report())
	fmt.Printf("\nspent %s; the same tasks sent straight to %s: about %s (saved %s, %.0f%%)\n",
		cost, llm.Name(), llmOnly, llmOnly-cost, 100*float64(llmOnly-cost)/float64(max(llmOnly, 1)))
	fmt.Println(strings.TrimSpace(`
LLM-only is an estimate: each task's direct prompt, counted in the LLM's
tokenizer, and as many output tokens as an average SLM sample.`))
	return nil
}
