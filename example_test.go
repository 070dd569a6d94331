package coco_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/cocotest"
)

// A Meter prices every call per stage and model, and keeps a budget.
func ExampleMeter() {
	meter, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(5)})
	if err != nil {
		panic(err)
	}
	// Record calls made elsewhere...
	meter.Record(coco.StageSLM, "llama3.2:3b", coco.Usage{InputTokens: 900, OutputTokens: 2400})
	meter.Record(coco.StageLLM, "gpt-4o", coco.Usage{InputTokens: 1200, CachedInputTokens: 1024, OutputTokens: 80})

	// ...or let the meter make them: it holds the worst case against the
	// budget first, and counts what the provider did not report.
	model := coco.NamedModel("gpt-4o-mini", coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
		return &coco.Response{Samples: []coco.Sample{{Text: "05/01/2021"}}}, nil
	}))
	req := coco.Request{
		Messages:  []coco.Message{{Role: coco.RoleUser, Content: "Yesterday was April 30, 2021. What is the date today?"}},
		MaxTokens: 50,
	}
	resp, rec, err := meter.Call(context.Background(), coco.StageLLM, model, req)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Samples[0].Text, rec.Usage.InputTokens, rec.Usage.OutputTokens, rec.Usage.Estimated, rec.Cost)

	report := meter.Report()
	fmt.Println("spent:", report.Total.Cost)
	for _, l := range report.ByStage() {
		fmt.Println(l.Stage, l.Calls, l.Cost)
	}
	onLLM, _ := meter.Counterfactual("gpt-4o")
	fmt.Println("all on gpt-4o:", onLLM)

	tiny, _ := coco.NewMeter(coco.MeterOptions{Budget: coco.Cent / 100})
	_, _, err = tiny.Call(context.Background(), coco.StageLLM, coco.NamedModel("gpt-4-0613", model), req)
	fmt.Println(errors.Is(err, coco.ErrBudgetExceeded))
	// Output:
	// 05/01/2021 23 6 true $0.00000705
	// spent: $0.00252705
	// llm 2 $0.00252705
	// slm 1 $0.00
	// all on gpt-4o: $0.0288875
	// true
}

// Coco answers with the SLM when its samples agree and pays for the LLM when
// they do not. cocotest's scripted models stand in for real ones.
func ExampleCoco_Run() {
	slm := cocotest.NewModel("llama3.2:3b").
		On("train", cocotest.Answers("3:40 + 1:35 = 5:15 pm.\nA: 5:15 pm", "A: 5:15 pm", "A: 5:15 PM", "A: 5:15 pm", "A: 5:05 pm")).
		On("Jane", cocotest.Answers("A: 02/27/2017", "A: 02/28/2017", "A: 02/26/2017", "A: 02/27/2017", "A: 03/01/2017"))
	llm := cocotest.NewModel("gpt-4o").
		Default(cocotest.Reply{Texts: []string{"Born 02/28/2001; birthday 02/28/2017; minus a day.\nA: 02/27/2017"},
			Usage: coco.Usage{InputTokens: 70, OutputTokens: 25}})

	c, err := coco.New(slm, llm, coco.WithSamples(5), coco.WithBudget(coco.Dollars(20)))
	if err != nil {
		panic(err)
	}
	for _, task := range []string{
		"A train leaves at 3:40 pm and takes 95 minutes. When does it arrive?",
		"Jane was born on the last day of February in 2001. Today is her 16th birthday. What was the date yesterday?",
	} {
		res, err := c.Run(context.Background(), task)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %.2f %s %s\n", res.Route, res.Confidence, res.Answer, res.Cost)
	}
	// Output:
	// slm 0.80 5:15 pm $0.00
	// llm 0.40 02/27/2017 $0.000425
}
