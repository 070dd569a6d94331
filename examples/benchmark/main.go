// Command benchmark measures cost against accuracy for routing strategies on a
// trace of recorded model outputs (see package replay for the format):
//
//	go run ./examples/benchmark -traces FILE [-samples K] [-json OUT] [-plot OUT.png] [-slm-price IN,OUT]
//
// Every strategy answers the same tasks from the same recorded samples:
//
//   - llm-only: every task to the LLM;
//   - slm-only: the SLM's majority vote of K samples for every task;
//   - random: a seeded random score, the floor any router must beat;
//   - vote: the majority-vote share as confidence (the MoT cascade baseline);
//   - coco: the confidence of coco.New's default configuration, run through
//     the real pipeline (coco.Run) with replayed models;
//   - oracle: escalates exactly the tasks the SLM's vote gets wrong.
//
// Each strategy's threshold is swept over all its distinct scores to draw its
// cost/accuracy frontier. The LLM is prompted with coco.FullPrompter, as its
// recorded full chains of thought were made; what sketch prompting saves in
// output tokens cannot be replayed. Nothing is fit on the tasks it is scored on: the
// held-out figure calibrates on the first half of the tasks and applies the
// threshold to the second. LLM prices come from coco's price table; the SLM
// costs $0 unless -slm-price gives its input and output price in USD per
// million tokens.
//
// With -live, the trace's questions go to the OpenAI-compatible endpoints of
// the COCO_* environment variables instead (see openaicompat.ModelsFromEnv:
// COCO_SLM_MODEL, COCO_LLM_MODEL, COCO_BASE_URL or COCO_SLM_BASE_URL and
// COCO_LLM_BASE_URL, and their API keys): every strategy is then scored on the
// live answers against the trace's gold answers, with -limit capping the
// number of tasks (real calls cost real money).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/openaicompat"
	"github.com/coco-llm/coco/replay"
)

type report struct {
	Dataset string `json:"dataset"`
	Tasks   int    `json:"tasks"`
	Samples int    `json:"samples"`
	SLM     string `json:"slm_model"`
	LLM     string `json:"llm_model"`
	LLMOnly struct {
		Accuracy   float64 `json:"accuracy"`
		LLMCostUSD float64 `json:"llm_cost_usd"`
	} `json:"llm_only"`
	SLMOnly struct {
		Accuracy   float64 `json:"accuracy"`
		SLMCostUSD float64 `json:"slm_cost_usd"`
	} `json:"slm_only"`
	// Default is coco.New's default configuration at its default threshold.
	Default struct {
		Threshold float64 `json:"threshold"`
		LLMShare  float64 `json:"llm_share"`
		Accuracy  float64 `json:"accuracy"`
	} `json:"coco_default"`
	Strategies []strategyReport `json:"strategies"`
}

// outcome is what the pipeline did with one task.
type outcome struct {
	slmCorrect, llmCorrect bool
	llmCost, slmCost       coco.Money
	vote, coco             float64
	defaultCorrect         bool
	defaultRoute           coco.Route
}

func main() {
	traces := flag.String("traces", "", "trace file (JSON Lines; see package replay)")
	samples := flag.Int("samples", 10, "SLM samples per task (the first K recorded)")
	jsonOut := flag.String("json", "", "write the results as JSON to this file")
	plotOut := flag.String("plot", "", "draw the frontiers to this PNG file")
	slmPrice := flag.String("slm-price", "", "SLM price as IN,OUT in USD per million tokens (default: $0)")
	seed := flag.Uint64("seed", 1, "seed of the random strategy")
	live := flag.Bool("live", false, "ask the endpoints of the COCO_* environment variables instead of replaying")
	limit := flag.Int("limit", 0, "use only the first N tasks (0: all)")
	flag.Parse()
	if err := run(*traces, *samples, *jsonOut, *plotOut, *slmPrice, *seed, *live, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "benchmark:", err)
		os.Exit(1)
	}
}

func run(path string, k int, jsonOut, plotOut, slmPrice string, seed uint64, live bool, limit int) error {
	if path == "" {
		return fmt.Errorf("-traces is required")
	}
	trace, err := replay.Load(path)
	if err != nil {
		return err
	}
	if limit > 0 && limit < len(trace.Tasks) {
		trace.Tasks = trace.Tasks[:limit]
	}
	var slm, llm namedModel = trace.SLM(), trace.LLM()
	if live {
		ls, ll, ok, err := openaicompat.ModelsFromEnv()
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("-live needs COCO_SLM_MODEL, COCO_LLM_MODEL and a base URL for each (see openaicompat.ModelsFromEnv)")
		}
		slm, llm = ls, ll
	}
	prices := coco.DefaultPrices()
	if slmPrice != "" {
		p, err := parsePrice(slmPrice)
		if err != nil {
			return err
		}
		if err := prices.Set(slm.Name(), p); err != nil {
			return err
		}
	}
	outcomes, err := runTasks(trace, slm, llm, prices, k)
	if err != nil {
		return err
	}

	rep := &report{Tasks: len(trace.Tasks), Samples: k, SLM: slm.Name(), LLM: llm.Name(), Dataset: datasets(trace)}
	n := float64(len(outcomes))
	var llmCost, slmCost coco.Money
	slmRight, llmRight, defRight, defSent := 0, 0, 0, 0
	for _, o := range outcomes {
		llmCost += o.llmCost
		slmCost += o.slmCost
		slmRight += b2i(o.slmCorrect)
		llmRight += b2i(o.llmCorrect)
		defRight += b2i(o.defaultCorrect)
		defSent += b2i(o.defaultRoute == coco.RouteLLM)
	}
	slmAcc, llmAcc := float64(slmRight)/n, float64(llmRight)/n
	rep.LLMOnly.Accuracy, rep.LLMOnly.LLMCostUSD = llmAcc, llmCost.Float()
	rep.SLMOnly.Accuracy, rep.SLMOnly.SLMCostUSD = slmAcc, slmCost.Float()
	rep.Default.Threshold, rep.Default.LLMShare, rep.Default.Accuracy = coco.DefaultThreshold, float64(defSent)/n, float64(defRight)/n

	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	scores := map[string]func(o outcome) float64{
		"random": func(outcome) float64 { return rng.Float64() },
		"vote":   func(o outcome) float64 { return o.vote },
		"coco":   func(o outcome) float64 { return o.coco },
		"oracle": func(o outcome) float64 { return float64(b2i(o.slmCorrect)) },
	}
	for _, name := range []string{"random", "vote", "coco", "oracle"} {
		labels := make([]coco.Labelled, len(outcomes))
		for i, o := range outcomes {
			labels[i] = coco.Labelled{Confidence: scores[name](o), SLMCorrect: o.slmCorrect, LLMCorrect: o.llmCorrect, LLMCost: o.llmCost}
		}
		s, err := evaluate(name, labels, slmAcc, llmAcc, llmCost)
		if err != nil {
			return err
		}
		rep.Strategies = append(rep.Strategies, s)
	}

	printTable(os.Stdout, rep)
	if jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if plotOut != "" {
		if err := drawPlot(rep, plotOut); err != nil {
			return err
		}
	}
	return nil
}

// runTasks runs every task through two pipelines built by coco.New: the
// default one (whose confidence, route and answer are the coco strategy's) and
// one with a threshold no confidence reaches (every task to the LLM, for the
// LLM's answer and cost on every task).
// namedModel is a coco.Model with a name: a replayed or a live one.
type namedModel interface {
	coco.Model
	Name() string
}

func runTasks(trace *replay.Trace, slm, llm coco.Model, prices *coco.PriceTable, k int) ([]outcome, error) {
	// The LLM's recorded outputs are full chains of thought, so the LLM is
	// prompted as they were made (FullPrompter): a sketch prompt's few-shot
	// input would be paid for here without its shorter output.
	full := coco.WithSketchPrompter(coco.FullPrompter{})
	def, err := coco.New(slm, llm, coco.WithSamples(k), coco.WithPrices(prices), full)
	if err != nil {
		return nil, err
	}
	always, err := coco.New(slm, llm, coco.WithSamples(k), coco.WithPrices(prices), full, coco.WithThreshold(math.Inf(1)))
	if err != nil {
		return nil, err
	}
	var x coco.StandardAnswers
	out := make([]outcome, len(trace.Tasks))
	errs := make([]error, len(trace.Tasks))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = runTask(def, always, x, &trace.Tasks[i])
			}
		}()
	}
	for i := range trace.Tasks {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", trace.Tasks[i].ID, err)
		}
	}
	return out, nil
}

func runTask(def, always *coco.Coco, x coco.StandardAnswers, task *replay.Task) (outcome, error) {
	ctx := context.Background()
	gold := x.Normalize(task.Gold)
	d, err := def.Run(ctx, task.Question)
	if err != nil {
		return outcome{}, err
	}
	a, err := always.Run(ctx, task.Question)
	if err != nil {
		return outcome{}, err
	}
	if a.Route != coco.RouteLLM {
		return outcome{}, fmt.Errorf("the always-LLM pipeline kept the SLM: %s", a.Reason)
	}
	_, llmCost := a.StageCost(coco.StageLLM)
	_, slmCost := d.StageCost(coco.StageSLM)
	o := outcome{
		slmCorrect:     d.SLMAnswer != "" && d.SLMAnswer == gold,
		llmCorrect:     a.LLMAnswer != "" && a.LLMAnswer == gold,
		llmCost:        llmCost,
		slmCost:        slmCost,
		coco:           d.Confidence,
		defaultCorrect: d.Normalized != "" && d.Normalized == gold,
		defaultRoute:   d.Route,
	}
	if d.SLM != nil && len(d.SLM.Answers) > 0 {
		_, count := d.SLM.Majority()
		o.vote = float64(count) / float64(len(d.SLM.Answers))
	}
	return o, nil
}

func parsePrice(s string) (coco.Price, error) {
	in, out, ok := strings.Cut(s, ",")
	if !ok {
		return coco.Price{}, fmt.Errorf("-slm-price %q: want IN,OUT in USD per million tokens", s)
	}
	pin, err := coco.ParseMoney(in)
	if err != nil {
		return coco.Price{}, err
	}
	pout, err := coco.ParseMoney(out)
	if err != nil {
		return coco.Price{}, err
	}
	return coco.Price{Input: pin / 1_000_000, Output: pout / 1_000_000, Source: "-slm-price"}, nil
}

func datasets(t *replay.Trace) string {
	seen := map[string]bool{}
	var names []string
	for _, task := range t.Tasks {
		if !seen[task.Dataset] {
			seen[task.Dataset] = true
			names = append(names, task.Dataset)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func printTable(f *os.File, r *report) {
	fmt.Fprintf(f, "%s: %d tasks, %d SLM samples (%s), LLM %s\n", r.Dataset, r.Tasks, r.Samples, r.SLM, r.LLM)
	fmt.Fprintf(f, "LLM-only: accuracy %.3f, LLM cost $%.4f    SLM-only: accuracy %.3f, SLM cost $%.4f\n",
		r.LLMOnly.Accuracy, r.LLMOnly.LLMCostUSD, r.SLMOnly.Accuracy, r.SLMOnly.SLMCostUSD)
	fmt.Fprintf(f, "coco default (threshold %.2f): accuracy %.3f with %.3f of tasks sent to the LLM\n\n",
		r.Default.Threshold, r.Default.Accuracy, r.Default.LLMShare)
	w := tabwriter.NewWriter(f, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "strategy\tLLM share @-1pt\tcost ratio @-1pt\tCPT(95%)\tAPGR\theld-out acc\theld-out share\t")
	for _, s := range r.Strategies {
		fmt.Fprintf(w, "%s\t%.3f\t%.3f\t%s\t%s\t%.3f\t%.3f\t\n", s.Name, s.LLMShareAt1pt, s.CostRatioAt1pt,
			opt(s.CPT95), opt(s.APGR), s.Heldout.Accuracy, s.Heldout.LLMShare)
	}
	w.Flush()
}

func opt(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*p, 'f', 3, 64)
}
