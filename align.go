package coco

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// StepKind says how a step of one model's reasoning relates to the other's.
type StepKind string

// The kinds of aligned steps.
const (
	StepAgree    StepKind = "agree"    // both models wrote this step, with the same facts
	StepConflict StepKind = "conflict" // both wrote it, with different facts
	StepSLMOnly  StepKind = "slm-only" // only the SLM wrote it
	StepLLMOnly  StepKind = "llm-only" // only the LLM wrote it
)

// AlignedStep is one step of an alignment.
type AlignedStep struct {
	Kind StepKind
	SLM  string // the SLM's step, "" for StepLLMOnly
	LLM  string // the LLM's step, "" for StepSLMOnly
	// Similarity is the pair's similarity in [0,1]; 0 for one-sided steps.
	Similarity float64
}

// Alignment is an Aligner's output.
type Alignment struct {
	Steps []AlignedStep
	// Score in [0,1] says how much of the two reasonings agree: twice the
	// summed similarity of agreeing pairs over the number of steps of both
	// sides (a Dice coefficient weighted by similarity).
	Score float64
	// Rationale is the fused reasoning, one step a line, ending in
	// "Answer: <answer>".
	Rationale string
	// Answer is the final answer the rationale ends in (the LLM's);
	// AnswersAgree says whether the SLM sample used gave the same answer.
	Answer       string
	AnswersAgree bool
}

// Aligner fuses the SLM's attempt and the LLM's sketch into one rationale that
// ends in the LLM's final answer. slm is nil when the SLM failed.
// Implementations must be safe for concurrent use.
type Aligner interface {
	Align(ctx context.Context, slm *Attempt, llm *Sketch) (*Alignment, error)
}

// StepAligner is the default Aligner. The zero value is ready to use.
//
// It takes the SLM sample whose answer matches the LLM's (or, if none does,
// the first sample of the SLM's majority), splits it into steps with
// ParseSketch, and aligns those steps with the LLM's sketch, keeping both
// orders: a Needleman-Wunsch alignment with no gap penalty that maximises the
// summed similarity of the paired steps, pairing only steps at least
// MinSimilarity alike. The similarity of two steps weighs their facts
// (numbers, dates, times and capitalised names, normalised so that "May 1,
// 2021" = "05/01/2021") at 0.6 and their other words at 0.4, each as a Jaccard
// index; steps without facts are compared by words alone. A pair whose facts
// share less than half (Jaccard) conflicts; otherwise it agrees.
//
// The rationale takes, in order: the SLM's step where the two agree (its
// detail is free), the LLM's step where they conflict or only the LLM has one,
// and the SLM's own steps only when both models reached the same answer. It
// costs O(n·m) for n and m steps and no model call.
type StepAligner struct {
	// MinSimilarity is the least similarity of a pair; 0 means 0.2.
	MinSimilarity float64
	// Extractor normalises answers to compare them; nil means StandardAnswers.
	Extractor AnswerExtractor
}

var _ Aligner = StepAligner{}

// Align implements Aligner.
func (al StepAligner) Align(_ context.Context, slm *Attempt, llm *Sketch) (*Alignment, error) {
	if llm == nil {
		return nil, fmt.Errorf("coco: align: no LLM sketch")
	}
	x := al.Extractor
	if x == nil {
		x = StandardAnswers{}
	}
	minSim := al.MinSimilarity
	if minSim <= 0 {
		minSim = 0.2
	}
	llmAnswer := x.Normalize(llm.Answer)
	var slmSteps []string
	agreeAnswers := false
	if slm != nil {
		if i := pickSample(slm, llmAnswer); i >= 0 {
			agreeAnswers = slm.Answers[i] == llmAnswer && llmAnswer != ""
			if sk, err := ParseSketch(slm.Samples[i].Text); err == nil {
				slmSteps = sk.Steps
			}
		}
	}
	steps, score := alignSteps(slmSteps, llm.Steps, minSim)
	a := &Alignment{Steps: steps, Score: score, Answer: llm.Answer, AnswersAgree: agreeAnswers}
	var b strings.Builder
	n := 0
	for _, s := range steps {
		var line string
		switch s.Kind {
		case StepAgree, StepSLMOnly:
			if s.Kind == StepSLMOnly && !agreeAnswers {
				continue
			}
			line = s.SLM
		default:
			line = s.LLM
		}
		n++
		fmt.Fprintf(&b, "%d. %s\n", n, line)
	}
	fmt.Fprintf(&b, "Answer: %s", llm.Answer)
	a.Rationale = b.String()
	return a, nil
}

// pickSample returns the index of the SLM sample to align: the first whose
// answer is answer, else the first of the majority, else -1.
func pickSample(a *Attempt, answer string) int {
	if len(a.Samples) != len(a.Answers) {
		return -1
	}
	for i, ans := range a.Answers {
		if ans != "" && ans == answer {
			return i
		}
	}
	majority, _ := a.Majority()
	for i, ans := range a.Answers {
		if ans == majority {
			return i
		}
	}
	return -1
}

// stepFeatures are what two steps are compared by.
type stepFeatures struct {
	facts map[string]bool
	words map[string]bool
}

var (
	reFactDate   = regexp.MustCompile(`\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{1,2}-\d{1,2}\b|(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`)
	reFactTime   = regexp.MustCompile(`(?i)\b\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?`)
	reFactNumber = regexp.MustCompile(`-?\$?\d[\d,]*(?:\.\d+)?%?`)
	reWord       = regexp.MustCompile(`[\p{L}][\p{L}\p{N}'-]*`)
)

var stopWords = map[string]bool{
	"the": true, "and": true, "for": true, "that": true, "this": true, "with": true, "are": true, "was": true,
	"were": true, "is": true, "its": true, "from": true, "then": true, "than": true, "into": true, "have": true,
	"has": true, "had": true, "but": true, "not": true, "our": true, "their": true, "there": true, "which": true,
	"what": true, "when": true, "will": true, "would": true, "can": true, "all": true, "one": true, "also": true,
	"therefore": true, "thus": true, "hence": true, "so": true, "of": true, "to": true, "in": true, "on": true,
	"at": true, "by": true, "it": true, "as": true, "be": true, "an": true, "a": true, "or": true, "we": true,
}

func features(step string) stepFeatures {
	f := stepFeatures{facts: map[string]bool{}, words: map[string]bool{}}
	var x StandardAnswers
	rest := step
	for _, re := range []*regexp.Regexp{reFactDate, reFactTime} {
		for _, m := range re.FindAllString(rest, -1) {
			f.facts[x.Normalize(m)] = true
		}
		rest = re.ReplaceAllString(rest, " ")
	}
	for _, m := range reFactNumber.FindAllString(rest, -1) {
		f.facts[x.Normalize(m)] = true
	}
	for i, w := range reWord.FindAllString(rest, -1) {
		lw := strings.ToLower(w)
		if i > 0 && w != lw && len(w) > 1 {
			f.facts[lw] = true // a capitalised word inside a sentence: a name
			continue
		}
		if len(lw) >= 3 && !stopWords[lw] {
			f.words[lw] = true
		}
	}
	return f
}

func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 0
	}
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// similarity returns how alike two steps are and whether their facts agree.
func similarity(a, b stepFeatures) (sim float64, agree bool) {
	words := jaccard(a.words, b.words)
	if len(a.facts) == 0 || len(b.facts) == 0 {
		return words, true
	}
	facts := jaccard(a.facts, b.facts)
	return 0.6*facts + 0.4*words, facts >= 0.5
}

// alignSteps aligns two step lists in order (Needleman-Wunsch, no gap
// penalty, pairs only at minSim or more) and scores the alignment.
func alignSteps(slm, llm []string, minSim float64) ([]AlignedStep, float64) {
	n, m := len(slm), len(llm)
	fs := make([]stepFeatures, n)
	for i, s := range slm {
		fs[i] = features(s)
	}
	fl := make([]stepFeatures, m)
	for j, s := range llm {
		fl[j] = features(s)
	}
	sim := make([][]float64, n)
	agree := make([][]bool, n)
	for i := range n {
		sim[i] = make([]float64, m)
		agree[i] = make([]bool, m)
		for j := range m {
			sim[i][j], agree[i][j] = similarity(fs[i], fl[j])
		}
	}
	best := make([][]float64, n+1)
	for i := range best {
		best[i] = make([]float64, m+1)
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			v := max(best[i-1][j], best[i][j-1])
			if s := sim[i-1][j-1]; s >= minSim {
				v = max(v, best[i-1][j-1]+s)
			}
			best[i][j] = v
		}
	}
	var rev []AlignedStep
	i, j := n, m
	for i > 0 || j > 0 {
		switch {
		case i > 0 && j > 0 && sim[i-1][j-1] >= minSim && best[i][j] == best[i-1][j-1]+sim[i-1][j-1]:
			kind := StepConflict
			if agree[i-1][j-1] {
				kind = StepAgree
			}
			rev = append(rev, AlignedStep{Kind: kind, SLM: slm[i-1], LLM: llm[j-1], Similarity: sim[i-1][j-1]})
			i, j = i-1, j-1
		case j > 0 && (i == 0 || best[i][j] == best[i][j-1]):
			rev = append(rev, AlignedStep{Kind: StepLLMOnly, LLM: llm[j-1]})
			j--
		default:
			rev = append(rev, AlignedStep{Kind: StepSLMOnly, SLM: slm[i-1]})
			i--
		}
	}
	steps := make([]AlignedStep, len(rev))
	agreeSum := 0.0
	for k, s := range rev {
		steps[len(rev)-1-k] = s
		if s.Kind == StepAgree {
			agreeSum += s.Similarity
		}
	}
	score := 0.0
	if n+m > 0 {
		score = 2 * agreeSum / float64(n+m)
	}
	return steps, min(score, 1)
}
