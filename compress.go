package coco

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Context is one block of context in a CompressRequest.
type Context struct {
	Text string
	// Fixed marks a block not to compress: it is passed through whole.
	Fixed bool
}

// CompressRequest is the input to a Compressor. The parts of a prompt are kept
// apart, as LLMLingua's API keeps them, so that they are treated differently:
// the instruction and the question are never compressed, the contexts are.
type CompressRequest struct {
	Instruction string
	Contexts    []Context
	Question    string

	// Rate is the target ratio of compressed to original tokens of the
	// compressible contexts (those not Fixed), in (0,1]; 1 asks for none.
	Rate float64
	// TargetTokens, if positive, is the target size of the compressible
	// contexts in tokens, and overrides Rate.
	TargetTokens int
	// Keep lists spans that must come through verbatim. Spans are trimmed of
	// surrounding white space; blank ones, and ones that are not valid UTF-8
	// (they could only match inside a rune), are ignored.
	Keep []string
	// Model is the LLM the text is for: token counts are in its tokenizer.
	Model string
}

// Compressed is a Compressor's output.
type Compressed struct {
	// Text is the instruction, the contexts and the question, joined by blank
	// lines, the contexts compressed.
	Text string
	// OriginalTokens and CompressedTokens count the compressible contexts in
	// the target model's tokenizer, before and after, as the sum of their
	// segments' counts; AchievedRate is their ratio, RequestedRate what was
	// asked. TotalCompressed counts the whole compressed text exactly;
	// TotalOriginal the whole input as the sum of its parts (within a few
	// tokens of an exact count: tokens can merge across part boundaries).
	OriginalTokens, CompressedTokens int
	TotalOriginal, TotalCompressed   int
	RequestedRate, AchievedRate      float64
	// Dropped lists what was removed, in order, for debugging.
	Dropped []string
	// Note says what the compressor did when it is not plain: passed the
	// input through, or missed the requested rate and why.
	Note string
	// Calls holds the metered model calls a compressor made (an SLM-guided
	// one), so that Coco accounts for them in the task's result.
	Calls []Record
}

// Compressor shortens the input of a task before it is sent to the LLM.
// Implementations must be safe for concurrent use.
type Compressor interface {
	Compress(ctx context.Context, req CompressRequest) (*Compressed, error)
}

// IdentityCompressor compresses nothing: the text is the instruction, the
// contexts and the question joined by blank lines. It counts no tokens, so
// that it costs nothing on the request path.
type IdentityCompressor struct{}

var _ Compressor = IdentityCompressor{}

// Compress implements Compressor.
func (IdentityCompressor) Compress(_ context.Context, req CompressRequest) (*Compressed, error) {
	ctxs := make([]string, len(req.Contexts))
	for i, c := range req.Contexts {
		ctxs[i] = c.Text
	}
	return &Compressed{Text: joinPrompt(req.Instruction, ctxs, req.Question), RequestedRate: req.Rate, AchievedRate: 1,
		Note: "identity: nothing compressed"}, nil
}

func joinPrompt(instruction string, contexts []string, question string) string {
	parts := make([]string, 0, len(contexts)+2)
	for _, p := range append(append([]string{instruction}, contexts...), question) {
		if strings.TrimSpace(p) != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "\n\n")
}

// SplitTask splits a task written as one text into contexts and a question:
// the last paragraph (blank-line separated) is the question, the paragraphs
// before it are contexts. A task of one paragraph is all question.
func SplitTask(task string) CompressRequest {
	paras := splitParagraphs(task)
	if len(paras) <= 1 {
		return CompressRequest{Question: task}
	}
	req := CompressRequest{Question: paras[len(paras)-1]}
	for _, p := range paras[:len(paras)-1] {
		req.Contexts = append(req.Contexts, Context{Text: p})
	}
	return req
}

func splitParagraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(p) != "" {
			out = append(out, strings.Trim(p, "\n"))
		}
	}
	return out
}

// RateForConfidence maps the SLM's confidence to a compression rate for the
// LLM's input.
//
// The default, ConfidenceRate, compresses more the more confident the SLM was:
// a task the SLM nearly solved is one whose context it could already use, and
// the LLM needs less of it repeated; a task the SLM could not begin may hinge
// on any detail, so its context goes through nearly whole. Inputs shorter
// than MinTokens are never compressed: the saving would not pay for the risk.
type RateForConfidence interface {
	Rate(confidence float64, tokens int) float64
}

// ConfidenceRate is the default RateForConfidence: rate = 1 - (1 - MinRate) x
// confidence, so 1 (nothing dropped) at confidence 0 and MinRate at 1; 1
// below MinTokens of compressible context.
type ConfidenceRate struct {
	MinRate   float64 // 0 means 0.5
	MinTokens int     // 0 means 300
}

// Rate implements RateForConfidence.
func (c ConfidenceRate) Rate(confidence float64, tokens int) float64 {
	minRate, minTokens := c.MinRate, c.MinTokens
	if minRate <= 0 || minRate > 1 {
		minRate = 0.5
	}
	if minTokens <= 0 {
		minTokens = 300
	}
	if tokens < minTokens || math.IsNaN(confidence) {
		return 1
	}
	return 1 - (1-minRate)*clamp01(confidence)
}

// ExtractiveCompressor drops whole segments of context that the question does
// not need, and needs no model. The zero value is ready to use.
//
// It cuts each context into segments (sentences, list items, lines of code
// kept whole), scores them by relevance to the question (the IDF-weighted
// words they share with it, per square root of their length) and by
// information (numbers, dates and names), less a penalty for filler, and keeps
// the best up to the target size, in their original order; a segment nearly
// the same as one already kept is dropped as redundant. Segments holding a
// number, a date or a Keep span are kept whatever their score; if they alone
// exceed the target, filler words inside them are removed, never the number,
// date, name or span itself. The instruction and the question are never
// touched. It never cuts inside a word, so no UTF-8 rune is ever split.
//
// Below MinTokens of compressible context (0: 64), or with Rate 1, the input
// passes through unchanged and the Note says so.
type ExtractiveCompressor struct {
	MinTokens int
	// Counter counts tokens in the target model's tokenizer; nil means the
	// zero TokenCounter.
	Counter *TokenCounter
}

var _ Compressor = ExtractiveCompressor{}

// segment is a unit of context the extractive compressor keeps or drops.
// factCount counts the facts in s cheaply: runs of digits, and capitalised
// words that do not start a sentence (names).
func factCount(s string) int {
	n := 0
	prevDigit, sentenceStart, inWord := false, true, false
	for _, r := range s {
		digit := unicode.IsDigit(r)
		if digit && !prevDigit {
			n++
		}
		prevDigit = digit
		switch {
		case unicode.IsLetter(r):
			if !inWord && unicode.IsUpper(r) && !sentenceStart {
				n++
			}
			inWord, sentenceStart = true, false
		case r == '.' || r == '!' || r == '?':
			inWord, sentenceStart = false, true
		default:
			inWord = false
		}
	}
	return n
}

type segment struct {
	text   string
	start  int // byte offsets in its context of the text as cut
	end    int
	ctx    int // which context
	para   bool
	tokens int
	words  []string
	set    map[string]bool
	forced bool
	// spanned marks a segment holding (part of) a Keep span: never pruned.
	spanned bool
	score   float64
	keep    bool
}

// Compress implements Compressor.
func (e ExtractiveCompressor) Compress(ctx context.Context, req CompressRequest) (*Compressed, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if math.IsNaN(req.Rate) || req.Rate < 0 || req.Rate > 1 {
		return nil, fmt.Errorf("coco: compress: rate %v outside (0,1]", req.Rate)
	}
	minTokens := e.MinTokens
	if minTokens <= 0 {
		minTokens = 64
	}
	count := func(s string) (int, error) {
		n, err := e.Counter.Count(req.Model, s)
		return n.Tokens, err
	}
	out := &Compressed{RequestedRate: req.Rate}
	original := make([]string, len(req.Contexts))
	for i, c := range req.Contexts {
		original[i] = c.Text
	}
	// The total is the sum of the parts' counts, each part counted once
	// (the compressible contexts segment by segment), and a token for each
	// blank line between parts.
	total := 0
	for _, part := range []string{req.Instruction, req.Question} {
		n, err := count(part)
		if err != nil {
			return nil, err
		}
		total += n
	}
	var segs []*segment
	compressible, parts := 0, 0
	for i, c := range req.Contexts {
		if strings.TrimSpace(c.Text) != "" {
			parts++
		}
		if c.Fixed {
			n, err := count(c.Text)
			if err != nil {
				return nil, err
			}
			total += n
			continue
		}
		cs, n, err := cutContext(i, c.Text, req.Keep, count)
		if err != nil {
			return nil, err
		}
		compressible += n
		segs = append(segs, cs...)
	}
	for _, part := range []string{req.Instruction, req.Question} {
		if strings.TrimSpace(part) != "" {
			parts++
		}
	}
	total += compressible + max(parts-1, 0)
	out.TotalOriginal = total
	out.OriginalTokens = compressible
	target := int(math.Round(req.Rate * float64(compressible)))
	if req.TargetTokens > 0 {
		target = req.TargetTokens
		out.RequestedRate = float64(target) / math.Max(1, float64(compressible))
	}
	if compressible == 0 || compressible < minTokens || target >= compressible {
		why := fmt.Sprintf("passed through: %d compressible tokens", compressible)
		if compressible >= minTokens {
			why += fmt.Sprintf(", target %d", target)
		} else {
			why += fmt.Sprintf(", below the %d worth compressing", minTokens)
		}
		out.Text, out.CompressedTokens, out.TotalCompressed, out.AchievedRate, out.Note =
			joinPrompt(req.Instruction, original, req.Question), compressible, total, 1, why
		return out, nil
	}

	scoreSegments(segs, req.Question)
	kept, pruned, err := selectSegments(segs, target, count)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	out, err = assemble(out, req, segs, compressible, kept, count)
	if err != nil {
		return nil, err
	}
	out.Note = selectionNote(pruned, kept, target, out.AchievedRate, out.RequestedRate)
	return out, nil
}

// selectionNote says why a segment selection missed its target by more than
// 10%, or is "".
func selectionNote(pruned bool, kept, target int, achieved, requested float64) string {
	switch {
	case pruned:
		return fmt.Sprintf("numbers, dates and kept spans alone need %d tokens against a target of %d: filler words inside them were removed", kept, target)
	case math.Abs(achieved-requested) > 0.1*requested:
		return fmt.Sprintf("segments are whole sentences, lines or items: %d tokens is the closest to the target %d", kept, target)
	}
	return ""
}

// assemble rebuilds each context from its kept segments, in order, and fills
// in the text, the dropped segments and the counts.
func assemble(out *Compressed, req CompressRequest, segs []*segment, compressible, kept int, count func(string) (int, error)) (*Compressed, error) {
	// Neighbours in the original are joined by what stood between them
	// (so that a Keep span across a sentence or line end survives as
	// written); segments that had others between them by a space.
	pieces := make([]strings.Builder, len(req.Contexts))
	var prev *segment
	for _, s := range segs {
		if !s.keep {
			out.Dropped = append(out.Dropped, s.text)
			prev = nil
			continue
		}
		b := &pieces[s.ctx]
		switch {
		case b.Len() == 0:
		case prev != nil && prev.ctx == s.ctx && prev.end <= s.start:
			b.WriteString(req.Contexts[s.ctx].Text[prev.end:s.start])
		default:
			b.WriteByte(' ')
		}
		b.WriteString(s.text)
		prev = s
	}
	contexts := make([]string, len(req.Contexts))
	for i, c := range req.Contexts {
		if c.Fixed {
			contexts[i] = c.Text
		} else {
			contexts[i] = pieces[i].String()
		}
	}
	out.Text = joinPrompt(req.Instruction, contexts, req.Question)
	var err error
	if out.TotalCompressed, err = count(out.Text); err != nil {
		return out, err
	}
	out.OriginalTokens, out.CompressedTokens = compressible, kept
	out.AchievedRate = float64(kept) / math.Max(1, float64(compressible))
	return out, nil
}

// cutContext cuts context i into segments, marks the ones a Keep span
// protects, and counts their tokens.
func cutContext(i int, text string, keep []string, count func(string) (int, error)) ([]*segment, int, error) {
	cs := segmentText(text)
	protect(cs, text, keep)
	total := 0
	for _, s := range cs {
		n, err := count(s.text)
		if err != nil {
			return nil, 0, err
		}
		s.ctx, s.tokens = i, n
		total += n
	}
	return cs, total, nil
}

// segmentText cuts a context into segments: lines of code and list items
// whole, prose into sentences (also at 。！？).
func segmentText(text string) []*segment {
	out := segmentPieces(text)
	cursor := 0
	for _, s := range out {
		if i := strings.Index(text[cursor:], s.text); i >= 0 {
			s.start = cursor + i
			cursor = s.start + len(s.text)
		} else {
			s.start = cursor
		}
		s.end = s.start + len(s.text)
	}
	return out
}

// protect forces the segments that overlap an occurrence of a keep span in
// text, also where a span crosses a segment boundary, and marks them so that
// no filler is pruned from them.
func protect(segs []*segment, text string, keep []string) {
	for _, k := range keep {
		k = strings.TrimSpace(k)
		if k == "" || !utf8.ValidString(k) {
			continue
		}
		for from := 0; ; {
			i := strings.Index(text[from:], k)
			if i < 0 {
				break
			}
			lo, hi := from+i, from+i+len(k)
			for _, s := range segs {
				if s.start < hi && s.start+len(s.text) > lo {
					s.forced, s.spanned = true, true
				}
			}
			from = hi
		}
	}
}

func segmentPieces(text string) []*segment {
	var out []*segment
	for _, para := range splitParagraphs(text) {
		first := true
		for _, line := range strings.Split(para, "\n") {
			l := strings.TrimRight(line, " \t")
			if strings.TrimSpace(l) == "" {
				continue
			}
			if looksLikeCode(strings.TrimSpace(l)) || isIndented(l) || reStepMarker.MatchString(strings.TrimSpace(l)) {
				out = append(out, &segment{text: l, para: first})
				first = false
				continue
			}
			for _, s := range cjkSentences(strings.TrimSpace(l)) {
				out = append(out, &segment{text: s, para: first})
				first = false
			}
		}
	}
	return out
}

func isIndented(l string) bool {
	return strings.HasPrefix(l, "    ") || strings.HasPrefix(l, "\t")
}

// cjkSentences splits like sentences and also after 。, ！ and ？.
func cjkSentences(l string) []string {
	var out []string
	for _, part := range sentences(l) {
		start := 0
		for i, r := range part {
			if r == '。' || r == '！' || r == '？' {
				end := i + utf8.RuneLen(r)
				if s := strings.TrimSpace(part[start:end]); s != "" {
					out = append(out, s)
				}
				start = end
			}
		}
		if s := strings.TrimSpace(part[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func contentWords(s string) []string {
	var out []string
	for _, w := range reWord.FindAllString(s, -1) {
		lw := strings.ToLower(w)
		if !stopWords[lw] && utf8.RuneCountInString(lw) >= 2 {
			out = append(out, lw)
		}
	}
	return out
}

// hasFact reports whether s holds a number or a date (every date written
// with digits or a month name has a day or a year in digits).
func hasFact(s string) bool {
	return strings.IndexFunc(s, unicode.IsDigit) >= 0
}

func scoreSegments(segs []*segment, question string) {
	df := map[string]int{}
	for _, s := range segs {
		s.words = contentWords(s.text)
		s.set = make(map[string]bool, len(s.words))
		for _, w := range s.words {
			if !s.set[w] {
				s.set[w] = true
				df[w]++
			}
		}
	}
	q := map[string]bool{}
	for _, w := range contentWords(question) {
		q[w] = true
	}
	n := float64(len(segs))
	for _, s := range segs {
		rel := 0.0
		for w := range s.set {
			if q[w] {
				rel += math.Log(1 + n/float64(df[w]))
			}
		}
		rel /= math.Sqrt(float64(len(s.words) + 1))
		info := float64(factCount(s.text)) / float64(len(s.words)+1)
		all := len(reWord.FindAllString(s.text, -1))
		filler := 0.0
		if all > 0 {
			filler = 1 - float64(len(s.words))/float64(all)
		}
		s.score = rel + 0.5*info - 0.2*filler
		if s.para {
			s.score += 0.05
		}
		s.forced = s.forced || hasFact(s.text)
	}
}

// selectSegments marks the segments to keep, close to target tokens, and
// returns the tokens kept and whether forced segments had to be pruned.
func selectSegments(segs []*segment, target int, count func(string) (int, error)) (kept int, pruned bool, err error) {
	for _, s := range segs {
		if s.forced {
			s.keep = true
			kept += s.tokens
		}
	}
	if kept > target {
		for _, s := range segs {
			if s.forced && !s.spanned && kept > target {
				s.text = pruneFiller(s.text)
				n, err := count(s.text)
				if err != nil {
					return 0, false, err
				}
				kept -= s.tokens - n
				s.tokens = n
			}
		}
		return kept, true, nil
	}
	order := make([]*segment, 0, len(segs))
	for _, s := range segs {
		if !s.keep {
			order = append(order, s)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].score > order[j].score })
	var chosen []map[string]bool
	for _, s := range order {
		if kept >= target {
			break
		}
		if redundant(s.set, chosen) {
			continue
		}
		// Take a segment if it fits, or if it brings the total closer to
		// the target than leaving it out.
		if kept+s.tokens <= target || (kept+s.tokens-target) < (target-kept) {
			s.keep = true
			kept += s.tokens
			chosen = append(chosen, s.set)
		}
	}
	return kept, false, nil
}

// redundant reports whether a segment's word set nearly repeats a chosen one.
func redundant(set map[string]bool, chosen []map[string]bool) bool {
	if len(set) < 4 {
		return false
	}
	for _, c := range chosen {
		if jaccard(set, c) >= 0.8 {
			return true
		}
	}
	return false
}

// fillerWords may be removed from a sentence that must be kept for its facts.
var fillerWords = map[string]bool{
	"the": true, "a": true, "an": true, "very": true, "really": true, "quite": true, "just": true,
	"rather": true, "somewhat": true, "actually": true, "basically": true, "indeed": true, "also": true,
	"that": true, "which": true, "who": true, "then": true, "so": true, "however": true, "moreover": true,
	"furthermore": true, "perhaps": true, "certainly": true, "simply": true, "of": true, "is": true, "was": true,
}

// pruneFiller removes filler words, keeping every other word as written.
func pruneFiller(s string) string {
	fields := strings.Fields(s)
	out := fields[:0:0]
	for _, f := range fields {
		if fillerWords[strings.ToLower(strings.Trim(f, ",;:"))] {
			continue
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

// RateFunc adapts a function to the RateForConfidence interface.
type RateFunc func(confidence float64, tokens int) float64

// Rate calls f.
func (f RateFunc) Rate(confidence float64, tokens int) float64 { return f(confidence, tokens) }
