// Command quickstart shows what Coco does, offline.
//
// For now it meters a few chat requests against two models priced from the
// default table, a local small model (llama3.2:3b, $0) and a large one (gpt-4o),
// and prints the cost table and what the same calls would have cost on the large
// model alone. The models are scripted stand-ins that answer from a fixed list:
// no network, no API key. The pipeline that decides which model answers comes in
// a later release; here every request is sent to both.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/coco-llm/coco"
)

// scripted answers every request with the next of its answers and reports no
// usage, so the meter counts the tokens locally and marks them estimated.
func scripted(name string, answers ...string) coco.Model {
	next := make(chan string, len(answers))
	for _, a := range answers {
		next <- a
	}
	return coco.NamedModel(name, coco.ModelFunc(func(ctx context.Context, req coco.Request) (*coco.Response, error) {
		select {
		case a := <-next:
			return &coco.Response{Model: name, Samples: []coco.Sample{{Text: a}}}, nil
		default:
			return nil, fmt.Errorf("scripted model %s has no answers left", name)
		}
	}))
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	tasks := []string{
		"Yesterday was April 30, 2021. What is the date today in MM/DD/YYYY?",
		"A train leaves at 3:40 pm and takes 95 minutes. When does it arrive?",
		"Jane was born on the last day of February in 2001. Today is her 16th birthday. What is the date yesterday in MM/DD/YYYY?",
	}
	slm := scripted("llama3.2:3b",
		"Yesterday was April 30, 2021, so today is May 1, 2021.\nA: 05/01/2021",
		"3:40 pm plus 95 minutes is 3:40 + 1:35 = 5:15 pm.\nA: 5:15 pm",
		"The last day of February 2001 is 02/28/2001. Her 16th birthday is 02/28/2017. Yesterday was 02/27/2017.\nA: 02/27/2017",
	)
	llm := scripted("gpt-4o",
		"Apr 30 -> May 1.\n####\n05/01/2021",
		"3:40 + 1:35 = 5:15.\n####\n5:15 pm",
		"Born 02/28/2001; 16th birthday 02/28/2017; minus 1 day.\n####\n02/27/2017",
	)

	meter, err := coco.NewMeter(coco.MeterOptions{Budget: coco.Dollars(1)})
	if err != nil {
		return err
	}
	ctx := context.Background()
	fmt.Println("Scripted answers (offline stand-ins for llama3.2:3b and gpt-4o):")
	for _, task := range tasks {
		req := coco.Request{
			Messages:  []coco.Message{{Role: coco.RoleSystem, Content: "Answer briefly."}, {Role: coco.RoleUser, Content: task}},
			MaxTokens: 256,
		}
		for _, step := range []struct {
			stage string
			model coco.Model
		}{{coco.StageSLM, slm}, {coco.StageLLM, llm}} {
			resp, rec, err := meter.Call(ctx, step.stage, step.model, req)
			if err != nil {
				return err
			}
			fmt.Printf("  %-3s %-12s %4d in %4d out %14s  %q\n", rec.Stage, rec.Model,
				rec.Usage.InputTokens, rec.Usage.OutputTokens, rec.Cost, lastLine(resp.Samples[0].Text))
		}
	}

	report := meter.Report()
	fmt.Println()
	fmt.Print(report)
	allLLM, err := meter.Counterfactual("gpt-4o")
	if err != nil {
		return err
	}
	fmt.Printf("\nthe same calls all on gpt-4o: %s (spent %s)\n", allLLM, report.Total.Cost)
	return nil
}

func lastLine(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
