package coco_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/cocotest"
)

// scorerModel is a scripted SLM that can score text: every word of a
// sentence that mentions marker is surprising to it (-6 nats), the rest
// predictable (-0.1). It implements coco.PromptScorer.
type scorerModel struct {
	marker string
	calls  atomic.Int64
	fail   error
}

func (m *scorerModel) Name() string { return "llama3.2:3b" }

func (m *scorerModel) Generate(context.Context, coco.Request) (*coco.Response, error) {
	return nil, errors.New("not used")
}

func (m *scorerModel) ScoreText(ctx context.Context, text string) ([]coco.TokenLogprob, coco.Usage, error) {
	m.calls.Add(1)
	if m.fail != nil {
		return nil, coco.Usage{}, m.fail
	}
	toks := cocotest.TokenLogprobs(text, -0.1)
	sentence := ""
	for i := range toks {
		sentence += toks[i].Token
		if strings.Contains(toks[i].Token, ".") {
			if strings.Contains(sentence, m.marker) {
				for j := i; j >= 0 && j > i-20; j-- {
					toks[j].Logprob = -6
				}
			}
			sentence = ""
		}
	}
	return toks, coco.Usage{InputTokens: len(toks), OutputTokens: 1}, nil
}

func passageWith(fact string) string {
	var b strings.Builder
	filler := []string{"The valley road winds past orchards and old barns.", "Most visitors arrive in the late morning.",
		"The market sells cheese, bread and honey.", "Evening concerts are held in the courtyard.", "The library keeps maps and letters."}
	for i := range 60 {
		b.WriteString(filler[i%len(filler)] + " ")
		if i == 37 {
			b.WriteString(fact + " ")
		}
	}
	return b.String()
}

func TestSLMCompressorByLogprobs(t *testing.T) {
	t.Parallel()
	meter, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)
	// Take a sentence the extractive compressor drops (neither relevant to
	// the question nor holding a fact) and make it the one the SLM finds
	// surprising: only the SLM's scores can keep it.
	text := loadLongContext(t)[0].Text
	req := coco.CompressRequest{Contexts: []coco.Context{{Text: text}}, Question: "Who was the lighthouse keeper?", Rate: 0.25, Model: "gpt-4o"}
	e, err := coco.ExtractiveCompressor{}.Compress(context.Background(), req)
	require.NoError(t, err)
	var bland string
	for _, d := range e.Dropped {
		if strings.IndexFunc(d, func(r rune) bool { return r >= '0' && r <= '9' }) < 0 && len(d) > 40 {
			bland = d
			break
		}
	}
	require.NotEmpty(t, bland)
	slm := &scorerModel{marker: bland[:30]}
	c, err := coco.SLMCompressor{Model: slm, Meter: meter}.Compress(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, c.Text, bland, "what the SLM found surprising is kept, though the question does not ask for it")
	assert.Equal(t, int64(1), slm.calls.Load())
	require.Len(t, c.Calls, 1)
	assert.Equal(t, coco.StageCompress, c.Calls[0].Stage)
	assert.Equal(t, meter.Report().Total.Usage, c.Calls[0].Usage, "the scoring call is metered")
	if c.Note == "" {
		assert.InDelta(t, 0.25, c.AchievedRate, 0.025)
	}
	assert.Equal(t, 0.25, c.RequestedRate)

	// A failing scorer: the extractive result, and the note says why.
	failing := &scorerModel{fail: &coco.ProviderError{Provider: "test", StatusCode: 500}}
	c, err = coco.SLMCompressor{Model: failing, Meter: meter}.Compress(context.Background(), req)
	require.NoError(t, err)
	assert.Contains(t, c.Note, "SLM compression failed")
	assert.Equal(t, e.Text, c.Text)
}

func TestSLMCompressorByRewrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	text := passageWith("The bridge opened on 14 March 1962 and cost 3.2 million marks.")
	req := coco.CompressRequest{Contexts: []coco.Context{{Text: text}}, Question: "When did the bridge open?", Rate: 0.25, Model: "gpt-4o", Keep: []string{"valley road"}}
	meter, err := coco.NewMeter(coco.MeterOptions{})
	require.NoError(t, err)

	// The rewrite lost a number and the Keep span: both come back.
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Reply{Texts: []string{"A bridge opened in March 1962 in the town."}, Usage: coco.Usage{InputTokens: 400, OutputTokens: 12}})
	c, err := coco.SLMCompressor{Model: slm, Meter: meter}.Compress(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, c.Text, "14 March 1962", "the sentence with the lost number is put back")
	assert.Contains(t, c.Text, "3.2 million")
	assert.Contains(t, c.Text, "valley road", "the Keep span is put back")
	assert.Contains(t, c.Note, "put back")
	require.Len(t, c.Calls, 1)
	assert.Equal(t, coco.StageCompress, c.Calls[0].Stage)
	sys := slm.Requests()[0].Messages[0].Content
	assert.Contains(t, sys, "valley road")
	assert.Contains(t, slm.Requests()[0].Messages[1].Content, "Question: When did the bridge open?")

	// A rewrite far over budget is discarded for the extractive result.
	long := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers(text))
	c, err = coco.SLMCompressor{Model: long, Meter: meter}.Compress(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, c.Note, "SLM compression failed")
	assert.Contains(t, c.Note, "against a target of")
	assert.Len(t, c.Calls, 1, "the discarded call is still accounted for")

	// Small inputs never reach the SLM.
	none := cocotest.NewModel("llama3.2:3b")
	c, err = coco.SLMCompressor{Model: none, Meter: meter}.Compress(ctx, coco.CompressRequest{Contexts: []coco.Context{{Text: "Short."}}, Question: "Q?", Rate: 0.5, Model: "gpt-4o"})
	require.NoError(t, err)
	assert.Contains(t, c.Note, "passed through")
	assert.Zero(t, none.Calls())

	_, err = coco.SLMCompressor{}.Compress(ctx, req)
	assert.Error(t, err)
}

func TestRunWithSLMCompression(t *testing.T) {
	t.Parallel()
	task := passageWith("The bridge opened on 14 March 1962.") + "\n\nWhen did the bridge open?"
	slm := cocotest.NewModel("llama3.2:3b").
		On("Shorten", cocotest.Reply{Texts: []string{"The bridge opened on 14 March 1962."}, Usage: coco.Usage{InputTokens: 500, OutputTokens: 10}}).
		Default(cocotest.Reply{Texts: []string{"A: 1962", "A: 03/14/1962", "A: 1961"}, Usage: coco.Usage{InputTokens: 600, OutputTokens: 30}})
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Reply{Texts: []string{"opened 14 March 1962\n####\n03/14/1962"}, Usage: coco.Usage{InputTokens: 90, OutputTokens: 12}})
	c := newCoco(t, slm, llm, coco.WithSamples(3), coco.WithSLMCompression(true),
		coco.WithCompressionRate(coco.RateFunc(func(float64, int) float64 { return 0.2 })))
	r, err := c.Run(context.Background(), task)
	require.NoError(t, err)
	assert.Equal(t, coco.RouteLLM, r.Route)
	require.NotNil(t, r.Compression)
	assert.Less(t, r.Compression.AchievedRate, 0.3)
	stages := []string{}
	for _, rec := range r.Calls {
		stages = append(stages, rec.Stage)
	}
	assert.Equal(t, []string{coco.StageSLM, coco.StageCompress, coco.StageLLM}, stages)
	assert.Equal(t, c.Meter().Report().Total.Usage, r.Usage, "the compressor's call is in the task's accounts")
	assert.Contains(t, llm.Requests()[0].Messages[len(llm.Requests()[0].Messages)-1].Content, "The bridge opened on 14 March 1962.\n\nWhen did the bridge open?")

	_, err = coco.New(slm, llm, coco.WithSLMCompression(true), coco.WithCompressor(coco.IdentityCompressor{}))
	assert.Error(t, err)
}

func FuzzSLMCompressor(f *testing.F) {
	f.Add("Alpha 12 beta. Gamma delta epsilon. Zeta 3.5 eta.", "A short rewrite.", "Gamma")
	f.Add("東京。大阪は2020年。", "東京", "")
	f.Fuzz(func(t *testing.T, text, rewrite, keep string) {
		meter, err := coco.NewMeter(coco.MeterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers(rewrite))
		req := coco.CompressRequest{Contexts: []coco.Context{{Text: strings.Repeat(text+" ", 20)}}, Question: "Q?", Rate: 0.5, Model: "gpt-4o", Keep: []string{keep}}
		c, err := coco.SLMCompressor{Model: slm, Meter: meter, Fallback: coco.ExtractiveCompressor{MinTokens: 1}}.Compress(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		keep = strings.TrimSpace(keep)
		if keep != "" && utf8.ValidString(keep) && utf8.ValidString(text) && strings.Contains(req.Contexts[0].Text, keep) && !strings.Contains(c.Text, keep) {
			t.Fatalf("keep span %q lost", keep)
		}
		var spent coco.Money
		for _, rec := range c.Calls {
			spent += rec.Cost
		}
		if spent != meter.Spent() {
			t.Fatalf("calls account for %v, the meter saw %v", spent, meter.Spent())
		}
	})
}
