package coco_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
	"github.com/coco-llm/coco/cocotest"
)

type longPassage struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Questions []struct {
		Question, Answer, Kind string
	} `json:"questions"`
}

func loadLongContext(t testing.TB) []longPassage {
	t.Helper()
	b, err := os.ReadFile("testdata/longcontext.json")
	require.NoError(t, err)
	var set struct{ Passages []longPassage }
	require.NoError(t, json.Unmarshal(b, &set))
	require.NotEmpty(t, set.Passages)
	return set.Passages
}

var reNumberToken = regexp.MustCompile(`\d[\d,.:/]*\d|\d`)

func TestExtractiveGuarantees(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var x coco.ExtractiveCompressor
	for _, p := range loadLongContext(t)[:4] {
		for _, q := range p.Questions[:2] {
			for _, rate := range []float64{0.5, 0.25, 0.125} {
				req := coco.CompressRequest{Instruction: "Answer from the text.", Contexts: []coco.Context{{Text: p.Text}},
					Question: q.Question, Rate: rate, Model: "gpt-4o", Keep: []string{"blue shutters"}}
				c, err := x.Compress(ctx, req)
				require.NoError(t, err)
				assert.True(t, strings.HasSuffix(c.Text, "\n\n"+q.Question), "the question is kept, last")
				assert.True(t, strings.HasPrefix(c.Text, "Answer from the text.\n\n"), "the instruction is kept, first")
				for _, n := range reNumberToken.FindAllString(p.Text, -1) {
					assert.Contains(t, c.Text, n, "%s at %v: every number and date is kept", p.ID, rate)
				}
				if strings.Contains(p.Text, "blue shutters") {
					assert.Contains(t, c.Text, "blue shutters", "a Keep span survives")
				}
				require.Greater(t, c.OriginalTokens, 500)
				if c.Note == "" {
					assert.InDelta(t, rate, c.AchievedRate, 0.1*rate, "%s at %v: within 10%% of the request, or the note says why", p.ID, rate)
				}
				assert.Equal(t, rate, c.RequestedRate)
				assert.NotEmpty(t, c.Dropped)
				assert.Less(t, c.TotalCompressed, c.TotalOriginal)
				n, err := coco.CountTokens("gpt-4o", c.Text)
				require.NoError(t, err)
				assert.Equal(t, n, c.TotalCompressed, "the total is counted in the target's tokenizer")
			}
		}
	}
}

func TestExtractivePassThrough(t *testing.T) {
	t.Parallel()
	var x coco.ExtractiveCompressor
	for _, tc := range []struct {
		name string
		req  coco.CompressRequest
	}{
		{"empty", coco.CompressRequest{Rate: 0.5, Model: "gpt-4o"}},
		{"question only", coco.CompressRequest{Question: "What is 2+2?", Rate: 0.5, Model: "gpt-4o"}},
		{"tiny context", coco.CompressRequest{Contexts: []coco.Context{{Text: "Two and two."}}, Question: "What is 2+2?", Rate: 0.25, Model: "gpt-4o"}},
		{"rate 1", coco.CompressRequest{Contexts: []coco.Context{{Text: strings.Repeat("Long text here. ", 100)}}, Question: "Q?", Rate: 1, Model: "gpt-4o"}},
		{"fixed context", coco.CompressRequest{Contexts: []coco.Context{{Text: strings.Repeat("Do not touch. ", 100), Fixed: true}}, Question: "Q?", Rate: 0.2, Model: "gpt-4o"}},
	} {
		c, err := x.Compress(context.Background(), tc.req)
		require.NoError(t, err, tc.name)
		texts := []string{tc.req.Instruction}
		for _, ctx := range tc.req.Contexts {
			texts = append(texts, ctx.Text)
		}
		want := strings.Join(nonEmpty(append(texts, tc.req.Question)), "\n\n")
		assert.Equal(t, want, c.Text, tc.name)
		assert.Contains(t, c.Note, "passed through", tc.name)
		assert.Equal(t, 1.0, c.AchievedRate, tc.name)
	}
	_, err := x.Compress(context.Background(), coco.CompressRequest{Rate: 1.5})
	assert.Error(t, err)
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func TestExtractiveKeepsRunesWhole(t *testing.T) {
	t.Parallel()
	var x coco.ExtractiveCompressor
	texts := []string{
		strings.Repeat("東京の天気は晴れです。明日は雨が降るでしょう。図書館は九時に開きます。", 30),
		strings.Repeat("We met at the café 🎉 and ordered crêpes. The bill came to a lot 💸. Nobody minded at all! ", 30),
		strings.Repeat("مرحبا بالعالم. هذا نص تجريبي طويل. نحن نختبر الضغط هنا. ", 30),
		strings.Repeat("שלום עולם. זהו טקסט לבדיקה. ", 40),
	}
	for _, text := range texts {
		c, err := x.Compress(context.Background(), coco.CompressRequest{Contexts: []coco.Context{{Text: text}}, Question: "What happens tomorrow?", Rate: 0.3, Model: "gpt-4o"})
		require.NoError(t, err)
		assert.True(t, utf8.ValidString(c.Text))
		for _, d := range c.Dropped {
			assert.True(t, utf8.ValidString(d))
			assert.Contains(t, text, d, "segments are cut at sentence ends, never inside a rune")
		}
		assert.Less(t, c.CompressedTokens, c.OriginalTokens)
	}
}

func TestExtractiveKeepSpanAcrossSentences(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Filler words go on and on about nothing much. ", 40) + "The code is ALPHA. BRAVO is next. " + strings.Repeat("More filler here, very long and dull. ", 40)
	c, err := coco.ExtractiveCompressor{}.Compress(context.Background(), coco.CompressRequest{Contexts: []coco.Context{{Text: text}},
		Question: "What is it?", Rate: 0.1, Model: "gpt-4o", Keep: []string{"ALPHA. BRAVO"}})
	require.NoError(t, err)
	assert.Contains(t, c.Text, "The code is ALPHA. BRAVO is next.", "a span across a sentence end keeps both sentences whole")
}

func TestSplitTaskAndRate(t *testing.T) {
	t.Parallel()
	req := coco.SplitTask("First context.\n\nSecond context.\n\nWhat now?")
	assert.Equal(t, "What now?", req.Question)
	assert.Equal(t, []coco.Context{{Text: "First context."}, {Text: "Second context."}}, req.Contexts)
	assert.Equal(t, coco.CompressRequest{Question: "One paragraph only?"}, coco.SplitTask("One paragraph only?"))

	var r coco.ConfidenceRate
	assert.Equal(t, 1.0, r.Rate(0.9, 100), "short inputs are not compressed")
	assert.Equal(t, 1.0, r.Rate(0, 5000))
	assert.InDelta(t, 0.75, r.Rate(0.5, 5000), 1e-12)
	assert.InDelta(t, 0.5, r.Rate(1, 5000), 1e-12)
	assert.InDelta(t, 0.8, coco.ConfidenceRate{MinRate: 0.2, MinTokens: 10}.Rate(0.25, 11), 1e-12)
}

// TestCompressionEvaluation compresses every passage of the long-context set,
// once per question, at 2x, 4x and 8x, and reports the achieved ratio and the
// share of planted facts (the answers) that survive.
func TestCompressionEvaluation(t *testing.T) {
	t.Parallel()
	var x coco.ExtractiveCompressor
	passages := loadLongContext(t)
	for _, factor := range []float64{2, 4, 8} {
		var ratio float64
		kept, names, namesKept, n, lead := 0, 0, 0, 0, 0
		for _, p := range passages {
			for _, q := range p.Questions {
				c, err := x.Compress(context.Background(), coco.CompressRequest{Contexts: []coco.Context{{Text: p.Text}},
					Question: q.Question, Rate: 1 / factor, Model: "gpt-4o"})
				require.NoError(t, err)
				n++
				ratio += float64(c.OriginalTokens) / float64(c.CompressedTokens)
				hit := strings.Contains(c.Text, q.Answer)
				// The baseline a question-blind cut would give: the passage's
				// first 1/factor, by bytes.
				if strings.Contains(p.Text[:int(float64(len(p.Text))/factor)], q.Answer) {
					lead++
				}
				if hit {
					kept++
				}
				if q.Kind == "name" {
					names++
					if hit {
						namesKept++
					}
				}
			}
		}
		t.Logf("%.0fx asked: %.2fx achieved on average; planted facts kept %d/%d (%.2f), of them names (not protected) %d/%d (%.2f); keeping the first 1/%.0f instead: %d/%d",
			factor, ratio/float64(n), kept, n, float64(kept)/float64(n), namesKept, names, float64(namesKept)/float64(names), factor, lead, n)
		assert.GreaterOrEqual(t, float64(kept)/float64(n), 0.9, "%.0fx: the question's fact survives", factor)
	}
}

func BenchmarkExtractiveCompress(b *testing.B) {
	passages := loadLongContext(b)
	var text strings.Builder
	for _, p := range passages {
		text.WriteString(p.Text + "\n\n")
	}
	var x coco.ExtractiveCompressor
	for _, factor := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("%dx", factor), func(b *testing.B) {
			req := coco.CompressRequest{Contexts: []coco.Context{{Text: text.String()}}, Question: passages[0].Questions[0].Question,
				Rate: 1 / float64(factor), Model: "gpt-4o"}
			if _, err := x.Compress(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(text.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Compress(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzExtractiveCompress(f *testing.F) {
	f.Add("Some context. It has 3 numbers like 4.5 and 12/01/2020.\nAnother line.", "What is it?", "numbers", uint8(50))
	f.Add("東京。大阪。", "どこ？", "", uint8(10))
	f.Add("\xff\xfe. A. B.", "?", "A", uint8(1))
	f.Add("x = 1\ny = 2\n    indented code\n- item one\n- item two", "x?", "y = 2", uint8(90))
	f.Fuzz(func(t *testing.T, text, question, keep string, pct uint8) {
		rate := float64(pct%100+1) / 100
		req := coco.CompressRequest{Contexts: []coco.Context{{Text: text}}, Question: question, Rate: rate, Model: "gpt-4o", Keep: []string{keep}}
		c, err := coco.ExtractiveCompressor{MinTokens: 1}.Compress(context.Background(), req)
		if err != nil {
			t.Fatalf("compress: %v", err)
		}
		if strings.TrimSpace(question) != "" && !strings.Contains(c.Text, question) {
			t.Fatalf("question %q lost", question)
		}
		if utf8.ValidString(text) && utf8.ValidString(question) && !utf8.ValidString(c.Text) {
			t.Fatalf("invalid UTF-8 from valid input")
		}
		keep = strings.TrimSpace(keep)
		if keep != "" && utf8.ValidString(keep) && utf8.ValidString(text) && strings.Contains(text, keep) && !strings.Contains(c.Text, keep) {
			t.Fatalf("keep span %q lost", keep)
		}
	})
}

func TestExtractiveKeepSpanAcrossLines(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Filler words go on and on about nothing much.\n", 40) + "- Code ALPHA\n- BRAVO next\n" + strings.Repeat("More filler here, very long and dull.\n", 40)
	c, err := coco.ExtractiveCompressor{}.Compress(context.Background(), coco.CompressRequest{Contexts: []coco.Context{{Text: text}},
		Question: "What is it?", Rate: 0.1, Model: "gpt-4o", Keep: []string{"ALPHA\n- BRAVO"}})
	require.NoError(t, err)
	assert.Contains(t, c.Text, "- Code ALPHA\n- BRAVO next", "neighbours are joined by what stood between them")
}

func TestRunTaskCompressesItsContexts(t *testing.T) {
	t.Parallel()
	p := loadLongContext(t)[0]
	slm := cocotest.NewModel("llama3.2:3b").Default(cocotest.Answers("A: 1", "A: 2", "A: 3"))
	llm := cocotest.NewModel("gpt-4o").Default(cocotest.Answers("one step\n####\n1"))
	c, err := coco.New(slm, llm, coco.WithSamples(3), coco.WithCompressionRate(coco.RateFunc(func(float64, int) float64 { return 0.25 })))
	require.NoError(t, err)
	keep := "blue shutters"
	task := coco.Task{
		Instruction: "Answer from the documents.",
		Contexts:    []coco.Context{{Text: p.Text}, {Text: "Document B must stay whole.", Fixed: true}},
		Question:    p.Questions[0].Question,
		Keep:        []string{keep},
	}
	r, err := c.RunTask(context.Background(), task)
	require.NoError(t, err)
	slmPrompt := slm.Requests()[0].Messages[1].Content
	assert.True(t, strings.HasPrefix(slmPrompt, "Answer from the documents.\n\n"), "the SLM sees every part")
	assert.Contains(t, slmPrompt, p.Text)
	require.NotNil(t, r.Compression)
	assert.InDelta(t, 0.25, r.Compression.AchievedRate, 0.05)
	llmPrompt := llm.Requests()[0].Messages[len(llm.Requests()[0].Messages)-1].Content
	assert.Contains(t, llmPrompt, "Document B must stay whole.")
	assert.Contains(t, llmPrompt, p.Questions[0].Answer, "the asked-for fact survives")
	if strings.Contains(p.Text, keep) {
		assert.Contains(t, llmPrompt, keep)
	}
	assert.Less(t, len(llmPrompt), len(slmPrompt)/2)
}
