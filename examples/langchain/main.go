// Command langchain puts Coco into a langchaingo chain in place of its model:
//
//	go run ./examples/langchain
//
// Offline it replays the scripted answers of testdata/quickstart-trace.jsonl.
// With the COCO_* environment variables of the quickstart set, both models are
// langchaingo openai providers pointed at those endpoints, adapted with
// coco.FromLangchain: any langchaingo provider (ollama, anthropic, googleai...)
// plugs in the same way. A langchaingo callbacks handler sees every model call
// Coco makes.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/tmc/langchaingo/callbacks"
	"github.com/tmc/langchaingo/chains"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/openai"
	"github.com/tmc/langchaingo/prompts"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/replay"
)

func main() {
	if err := run(os.Stdout, "testdata/quickstart-trace.jsonl"); err != nil {
		fmt.Fprintln(os.Stderr, "langchain:", err)
		os.Exit(1)
	}
}

// callLog is a langchaingo callbacks handler that prints the model calls it
// is told about (never their prompts).
type callLog struct {
	callbacks.SimpleHandler
	out *os.File
}

func (l callLog) HandleLLMGenerateContentEnd(_ context.Context, res *llms.ContentResponse) {
	info := res.Choices[0].GenerationInfo
	fmt.Fprintf(l.out, "    callback: %s call to %s, %d samples, %s\n", info["CocoStage"], info["CocoModel"], len(res.Choices), info[coco.InfoCost])
}

func (l callLog) HandleLLMError(_ context.Context, err error) {
	fmt.Fprintf(l.out, "    callback: model error: %v\n", err)
}

func run(out *os.File, tracePath string) error {
	slm, llm, source, err := models(tracePath)
	if err != nil {
		return err
	}
	meter, err := coco.NewMeter(coco.MeterOptions{AllowUnpriced: true})
	if err != nil {
		return err
	}
	c, err := coco.New(slm, llm, coco.WithSamples(5), coco.WithMeter(meter),
		coco.WithHooks(coco.LangchainCallbacks(callLog{out: out})))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "A langchaingo LLMChain with Coco as its model (%s)\n\n", source)

	chain := chains.NewLLMChain(c, prompts.NewPromptTemplate("{{.question}}", []string{"question"}))
	trace, err := replay.Load(tracePath)
	if err != nil {
		return err
	}
	for _, task := range trace.Tasks[:3] {
		fmt.Fprintf(out, "Q: %s\n", task.Question)
		answer, err := chains.Run(context.Background(), chain, task.Question)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "A: %s\n\n", answer)
	}

	// The chain returns the answer only; the rest is in GenerationInfo.
	resp, err := c.GenerateContent(context.Background(), []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeHuman, trace.Tasks[2].Question)})
	if err != nil {
		return err
	}
	info := resp.Choices[0].GenerationInfo
	fmt.Fprintf(out, "GenerationInfo of the last task: route %v, confidence %.2f, %v prompt and %v completion tokens, cost %v\n",
		info[coco.InfoRoute], info[coco.InfoConfidence], info[coco.InfoPromptTokens], info[coco.InfoOutputTokens], info[coco.InfoCost])
	fmt.Fprintf(out, "\n%s", meter.Report())
	return nil
}

// models returns langchaingo providers for the COCO_* endpoints when they are
// set, and the replayed trace otherwise.
func models(tracePath string) (slm, llm coco.Model, source string, err error) {
	slmModel, llmModel := os.Getenv("COCO_SLM_MODEL"), os.Getenv("COCO_LLM_MODEL")
	slmURL, llmURL := firstSet("COCO_SLM_BASE_URL", "COCO_BASE_URL"), firstSet("COCO_LLM_BASE_URL", "COCO_BASE_URL")
	if slmModel == "" || llmModel == "" || slmURL == "" || llmURL == "" {
		trace, err := replay.Load(tracePath)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%w (run from the repository's root)", err)
		}
		return trace.SLM(), trace.LLM(), "scripted answers replayed from " + tracePath, nil
	}
	// The providers' HTTP client goes through coco.ObserveHTTP, so that
	// failures carry their HTTP status and Retry-After.
	client := &http.Client{Transport: coco.ObserveHTTP(nil)}
	provider := func(model, url, key string) (coco.Model, error) {
		p, err := openai.New(openai.WithModel(model), openai.WithBaseURL(url), openai.WithToken(key), openai.WithHTTPClient(client))
		if err != nil {
			return nil, err
		}
		return coco.FromLangchain(p, model), nil
	}
	if slm, err = provider(slmModel, slmURL, firstSet("COCO_SLM_API_KEY", "COCO_API_KEY")); err != nil {
		return nil, nil, "", err
	}
	if llm, err = provider(llmModel, llmURL, firstSet("COCO_LLM_API_KEY", "COCO_API_KEY")); err != nil {
		return nil, nil, "", err
	}
	return slm, llm, fmt.Sprintf("LIVE: langchaingo openai providers for %s and %s", slmModel, llmModel), nil
}

func firstSet(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}
