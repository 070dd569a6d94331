package coco

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// SLMCompressor is the SLM-guided compressor. Its calls go through Meter under
// StageCompress and come back in Compressed.Calls.
//
// When the SLM implements PromptScorer it works as LLMLingua's coarse level
// does: the SLM scores every token of the contexts, and segments (as
// ExtractiveCompressor cuts them) are kept by their self-information (the
// mean of -log p over their tokens: what the SLM could not predict is what
// the LLM needs), blended half and half with their relevance to the question,
// up to the target; numbers, dates and Keep spans are kept whatever their
// score.
//
// Otherwise it asks the SLM to rewrite the contexts within the token budget,
// then checks that every number, date and Keep span of the contexts survived
// verbatim; a missing one brings back the original sentence that holds it.
// A rewrite that is empty, or still over the budget by more than a third
// after that repair, is discarded for Fallback's result.
//
// Fallback (nil: ExtractiveCompressor) also takes over when the SLM call fails
// and for inputs too small to compress, with the Note saying so.
type SLMCompressor struct {
	Model    Model  // the SLM; it must be named (see Namer) for the meter
	Meter    *Meter // required: every SLM call is metered
	Counter  *TokenCounter
	Fallback Compressor
}

var _ Compressor = SLMCompressor{}

func (s SLMCompressor) fallback() Compressor {
	if s.Fallback != nil {
		return s.Fallback
	}
	return ExtractiveCompressor{Counter: s.Counter}
}

// Compress implements Compressor.
func (s SLMCompressor) Compress(ctx context.Context, req CompressRequest) (*Compressed, error) {
	if s.Model == nil || s.Meter == nil {
		return nil, errors.New("coco: SLMCompressor needs a Model and a Meter")
	}
	base, err := s.fallback().Compress(ctx, req)
	if err != nil {
		return nil, err
	}
	if base.OriginalTokens == 0 || base.AchievedRate >= 1 || strings.HasPrefix(base.Note, "passed through") {
		return base, nil // nothing worth an SLM call
	}
	target := int(math.Round(base.RequestedRate * float64(base.OriginalTokens)))
	var out *Compressed
	if scorer, ok := s.Model.(PromptScorer); ok {
		out, err = s.byLogprobs(ctx, scorer, req, target)
	} else {
		out, err = s.byRewrite(ctx, req, target)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if out != nil {
			base.Calls = append(base.Calls, out.Calls...)
		}
		base.Note = strings.TrimSpace("SLM compression failed, extractive result used: " + errorLine(err) + ". " + base.Note)
		return base, nil
	}
	out.RequestedRate = base.RequestedRate
	return out, nil
}

// byLogprobs keeps segments by the SLM's self-information.
func (s SLMCompressor) byLogprobs(ctx context.Context, scorer PromptScorer, req CompressRequest, target int) (*Compressed, error) {
	name := ModelName(s.Model)
	out := &Compressed{}
	count := func(t string) (int, error) {
		n, err := s.Counter.Count(req.Model, t)
		return n.Tokens, err
	}
	var segs []*segment
	compressible := 0
	for i, c := range req.Contexts {
		if c.Fixed {
			continue
		}
		res, err := s.Meter.Reserve(StageCompress, name, Request{Messages: []Message{{Role: RoleUser, Content: c.Text}}, MaxTokens: 1})
		if err != nil {
			return out, err
		}
		toks, u, err := scorer.ScoreText(ctx, c.Text)
		if err != nil {
			res.Release()
			return out, err
		}
		rec, err := res.Settle(u)
		if err != nil {
			return out, err
		}
		out.Calls = append(out.Calls, rec)
		cs, n, err := cutContext(i, c.Text, req.Keep, count)
		if err != nil {
			return out, err
		}
		compressible += n
		for j, info := range segmentInformation(cs, toks) {
			cs[j].score = info
		}
		segs = append(segs, cs...)
	}
	// Blend the SLM's information with relevance to the question, each
	// scaled to [0,1] over the segments.
	infos := make([]float64, len(segs))
	for i, sg := range segs {
		infos[i] = sg.score
	}
	scoreSegments(segs, req.Question)
	rels := make([]float64, len(segs))
	for i, sg := range segs {
		rels[i] = sg.score
	}
	normalize(infos)
	normalize(rels)
	for i, sg := range segs {
		sg.score = 0.5*infos[i] + 0.5*rels[i]
	}
	kept, pruned, err := selectSegments(segs, target, count)
	if err != nil {
		return out, err
	}
	if out, err = assemble(out, req, segs, compressible, kept, count); err != nil {
		return out, err
	}
	out.Note = selectionNote(pruned, kept, target, out.AchievedRate, float64(target)/math.Max(1, float64(compressible)))
	return out, nil
}

// segmentInformation returns each segment's mean self-information (-log p)
// over the scored tokens that fall inside it.
func segmentInformation(segs []*segment, toks []TokenLogprob) []float64 {
	info := make([]float64, len(segs))
	n := make([]int, len(segs))
	pos, j := 0, 0
	for i, t := range toks {
		start, end := pos, pos+len(t.Token)
		pos = end
		if i == 0 {
			continue // no context: no information measured
		}
		for j < len(segs) && segs[j].start+len(segs[j].text) <= start {
			j++
		}
		if j < len(segs) && segs[j].start < end {
			info[j] -= t.Logprob
			n[j]++
		}
	}
	for i := range info {
		if n[i] > 0 {
			info[i] /= float64(n[i])
		}
	}
	return info
}

func normalize(xs []float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	for i := range xs {
		if hi > lo {
			xs[i] = (xs[i] - lo) / (hi - lo)
		} else {
			xs[i] = 0
		}
	}
}

// rewriteInstruction asks the SLM for a shortened context.
const rewriteInstruction = "Shorten the context below to at most %d tokens (about %d words). Keep what is needed to answer the question. " +
	"Copy every number, date and name exactly as written%s. Write only the shortened context, nothing else."

// byRewrite has the SLM rewrite the contexts within the budget and repairs
// what it lost.
func (s SLMCompressor) byRewrite(ctx context.Context, req CompressRequest, target int) (*Compressed, error) {
	out := &Compressed{}
	var compressible []string
	for _, c := range req.Contexts {
		if !c.Fixed {
			compressible = append(compressible, c.Text)
		}
	}
	source := strings.Join(compressible, "\n\n")
	keep := ""
	if len(req.Keep) > 0 {
		keep = fmt.Sprintf(", and these spans verbatim: %q", req.Keep)
	}
	msgs := []Message{
		{Role: RoleSystem, Content: fmt.Sprintf(rewriteInstruction, target, target*3/4, keep)},
		{Role: RoleUser, Content: "Question: " + req.Question + "\n\nContext:\n" + source},
	}
	resp, rec, err := s.Meter.Call(ctx, StageCompress, s.Model, Request{Messages: msgs, MaxTokens: target*3/2 + 32})
	if rec.Stage != "" {
		out.Calls = append(out.Calls, rec)
	}
	if err != nil {
		return out, err
	}
	rewrite := strings.TrimSpace(resp.Samples[0].Text)
	if rewrite == "" {
		return out, errors.New("the SLM's rewrite is empty")
	}
	// Repair: every number, date and Keep span must be in the rewrite; the
	// original sentence of a missing one comes back.
	var repaired []string
	for _, sg := range segmentText(source) {
		if missing := missingProtected(sg.text, rewrite, req.Keep); missing != "" && !slices.Contains(repaired, sg.text) {
			repaired = append(repaired, sg.text)
		}
	}
	if len(repaired) > 0 {
		rewrite += "\n" + strings.Join(repaired, " ")
	}
	for _, k := range req.Keep {
		k = strings.TrimSpace(k)
		if k != "" && utf8.ValidString(k) && strings.Contains(source, k) && !strings.Contains(rewrite, k) {
			rewrite += "\n" + k // a span that crossed sentence ends
		}
	}
	count := func(t string) (int, error) {
		n, err := s.Counter.Count(req.Model, t)
		return n.Tokens, err
	}
	orig, err := count(source)
	if err != nil {
		return out, err
	}
	got, err := count(rewrite)
	if err != nil {
		return out, err
	}
	if got > target+target/3 {
		return out, fmt.Errorf("the SLM's rewrite, repaired, has %d tokens against a target of %d", got, target)
	}
	contexts := []string{}
	for _, c := range req.Contexts {
		if c.Fixed {
			contexts = append(contexts, c.Text)
		}
	}
	contexts = append(contexts, rewrite)
	out.Text = joinPrompt(req.Instruction, contexts, req.Question)
	if out.TotalCompressed, err = count(out.Text); err != nil {
		return out, err
	}
	out.OriginalTokens, out.CompressedTokens = orig, got
	out.AchievedRate = float64(got) / math.Max(1, float64(orig))
	out.Dropped = []string{"(rewritten by the SLM: no segment list)"}
	if len(repaired) > 0 {
		out.Note = fmt.Sprintf("the SLM's rewrite lost numbers, dates or kept spans: %d original sentences were put back", len(repaired))
	}
	return out, nil
}

// missingProtected returns the first number or Keep span of sentence that
// text does not contain, or "".
func missingProtected(sentence, text string, keep []string) string {
	for _, n := range reFactNumber.FindAllString(sentence, -1) {
		n = strings.Trim(n, "$%")
		if n != "" && !strings.Contains(text, n) {
			return n
		}
	}
	for _, m := range reFactDate.FindAllString(sentence, -1) {
		if !strings.Contains(text, m) {
			return m
		}
	}
	for _, k := range keep {
		k = strings.TrimSpace(k)
		if k != "" && strings.Contains(sentence, k) && !strings.Contains(text, k) {
			return k
		}
	}
	return ""
}
