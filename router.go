package coco

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Attempt is the SLM's attempt at a task: its samples, and the answer the
// AnswerExtractor found in each.
type Attempt struct {
	Task    string
	Samples []Sample
	// Answers holds the normalised answer of each sample, "" where a sample
	// gave none; Answers[i] belongs to Samples[i].
	Answers []string
	// Raw holds each sample's answer as extracted, before normalisation.
	Raw []string
}

// Majority returns the most frequent non-empty answer and its count. Ties go to
// the answer that appeared first, so the result does not depend on map order.
func (a *Attempt) Majority() (answer string, count int) {
	counts := make(map[string]int, len(a.Answers))
	for _, ans := range a.Answers {
		if ans != "" {
			counts[ans]++
		}
	}
	for _, ans := range a.Answers {
		if ans != "" && counts[ans] > count {
			answer, count = ans, counts[ans]
		}
	}
	return answer, count
}

// Estimator scores how likely the SLM's majority answer is right, in [0,1].
// ok is false when the estimator has nothing to go on (a logprob estimator
// without logprobs). Implementations must be safe for concurrent use.
type Estimator interface {
	Estimate(a *Attempt) (score float64, ok bool)
}

// EstimatorFunc adapts a function to the Estimator interface.
type EstimatorFunc func(a *Attempt) (float64, bool)

// Estimate calls f(a).
func (f EstimatorFunc) Estimate(a *Attempt) (float64, bool) { return f(a) }

// VoteEstimator scores an attempt by self-consistency: the share of its samples
// that give the majority answer (samples with no answer count as disagreeing).
//
// With k samples the share moves in steps of 1/k, so many tasks tie, and a
// threshold must send all tied tasks one way. VoteEstimator breaks ties
// without ever reordering tasks of different shares: it subtracts up to
// 1/(2k), mostly for the length of the majority's reasoning (the mean length
// in bytes of the texts that give the majority answer, mapped to [0,1) as
// L/(L+500)) and a little (a thousandth) for the scatter of the answers (their
// normalised entropy, each missing answer an outcome of its own). Longer
// reasoning to the same answer marks a harder task: on the shared
// date-understanding trace, the SLM's majority is wrong more often where its
// reasoning is longer. Because only ties move, a threshold router on this
// score is never worse than one on the bare share at the shares the bare
// share can express.
//
// With one sample the score is 1 when it has an answer: a single sample says
// nothing about its own reliability, so use several samples or logprobs.
type VoteEstimator struct{}

var _ Estimator = VoteEstimator{}

// Estimate implements Estimator.
func (VoteEstimator) Estimate(a *Attempt) (float64, bool) {
	k := len(a.Answers)
	if k == 0 {
		return 0, false
	}
	majority, count := a.Majority()
	if count == 0 {
		return 0, true
	}
	share := float64(count) / float64(k)
	if k == 1 {
		return share, true
	}
	length, n := 0, 0
	for i, ans := range a.Answers {
		if ans == majority && i < len(a.Samples) {
			length += len(a.Samples[i].Text)
			n++
		}
	}
	lengthTerm := 0.0
	if n > 0 {
		mean := float64(length) / float64(n)
		lengthTerm = mean / (mean + 500)
	}
	tie := 0.999*lengthTerm + 0.001*answerEntropy(a.Answers)
	return share - tie/(2*float64(k)), true
}

// answerEntropy returns the entropy of the answer distribution divided by its
// maximum, log k; each empty answer is its own outcome.
func answerEntropy(answers []string) float64 {
	k := float64(len(answers))
	counts := map[string]int{}
	h := 0.0
	for _, a := range answers {
		if a == "" {
			h -= (1 / k) * math.Log(1/k)
			continue
		}
		counts[a]++
	}
	for _, c := range counts {
		p := float64(c) / k
		h -= p * math.Log(p)
	}
	return h / math.Log(k)
}

// LogprobEstimator scores an attempt by the probability the SLM gave its own
// answer: for each sample that gives the majority answer, the geometric mean of
// the probabilities of the tokens that spell the answer (exp of their mean
// logprob), summed and divided by the number of samples. With one sample that
// is the answer's per-token probability; with k it is a probability-weighted
// vote share. The answer's tokens are found by locating the extracted answer's
// last occurrence in the sample's text; samples without logprobs, or whose
// answer text cannot be located in the tokens, count as zero. ok is false when
// no sample has logprobs.
type LogprobEstimator struct{}

var _ Estimator = LogprobEstimator{}

// Estimate implements Estimator.
func (LogprobEstimator) Estimate(a *Attempt) (float64, bool) {
	if len(a.Samples) == 0 || len(a.Raw) != len(a.Samples) {
		return 0, false
	}
	majority, _ := a.Majority()
	any := false
	sum := 0.0
	for i, s := range a.Samples {
		if len(s.Logprobs) == 0 {
			continue
		}
		any = true
		if a.Answers[i] != majority || majority == "" {
			continue
		}
		if p, ok := answerProbability(s, a.Raw[i]); ok {
			sum += p
		}
	}
	if !any {
		return 0, false
	}
	return sum / float64(len(a.Samples)), true
}

// answerProbability returns exp(mean logprob) of the tokens that cover the last
// occurrence of answer in the sample's token stream.
func answerProbability(s Sample, answer string) (float64, bool) {
	if answer == "" {
		return 0, false
	}
	// Rebuild the text from the tokens, remembering where each token starts,
	// so that the answer is located in what the tokens spell.
	starts := make([]int, len(s.Logprobs))
	text := make([]byte, 0, len(s.Text))
	for i, t := range s.Logprobs {
		starts[i] = len(text)
		text = append(text, t.Token...)
	}
	at := strings.LastIndex(string(text), answer)
	if at < 0 {
		return 0, false
	}
	end := at + len(answer)
	sum, n := 0.0, 0
	for i, t := range s.Logprobs {
		tokEnd := starts[i] + len(t.Token)
		if tokEnd > at && starts[i] < end {
			sum += t.Logprob
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return math.Exp(sum / float64(n)), true
}

// CombinedEstimator averages the scores of the estimators that have something
// to go on, with weights (nil Weights: equal). If none has, ok is false.
type CombinedEstimator struct {
	Estimators []Estimator
	Weights    []float64
}

// Estimate implements Estimator.
func (c CombinedEstimator) Estimate(a *Attempt) (float64, bool) {
	sum, wsum := 0.0, 0.0
	for i, e := range c.Estimators {
		s, ok := e.Estimate(a)
		if !ok {
			continue
		}
		w := 1.0
		if c.Weights != nil && i < len(c.Weights) {
			w = c.Weights[i]
		}
		sum += w * s
		wsum += w
	}
	if wsum == 0 {
		return 0, false
	}
	return sum / wsum, true
}

// DefaultEstimator is the estimator Coco uses unless told otherwise: the mean of
// LogprobEstimator and VoteEstimator when the SLM returned logprobs, and
// VoteEstimator alone when it did not.
func DefaultEstimator() Estimator {
	return CombinedEstimator{Estimators: []Estimator{LogprobEstimator{}, VoteEstimator{}}}
}

// Route is where a task goes.
type Route string

// The routes.
const (
	RouteSLM Route = "slm"
	RouteLLM Route = "llm"
)

// Decision is a Router's verdict.
type Decision struct {
	Route  Route
	Reason string // one line a person can read, without the prompt
}

// Router decides whether the LLM is needed for a task, given the SLM's attempt
// and its confidence. Implementations must be safe for concurrent use.
type Router interface {
	Route(ctx context.Context, a *Attempt, confidence float64) (Decision, error)
}

// RouterFunc adapts a function to the Router interface.
type RouterFunc func(ctx context.Context, a *Attempt, confidence float64) (Decision, error)

// Route calls f.
func (f RouterFunc) Route(ctx context.Context, a *Attempt, confidence float64) (Decision, error) {
	return f(ctx, a, confidence)
}

// ThresholdRouter sends a task to the LLM when the confidence is below
// Threshold, and keeps the SLM's answer otherwise. A threshold of 0 never
// calls the LLM; one above 1 always does.
type ThresholdRouter struct {
	Threshold float64
}

// Route implements Router.
func (r ThresholdRouter) Route(_ context.Context, a *Attempt, confidence float64) (Decision, error) {
	if math.IsNaN(confidence) {
		return Decision{}, errors.New("coco: router: confidence is NaN")
	}
	if confidence < r.Threshold {
		return Decision{Route: RouteLLM, Reason: fmt.Sprintf("confidence %.3f below threshold %.3f", confidence, r.Threshold)}, nil
	}
	return Decision{Route: RouteSLM, Reason: fmt.Sprintf("confidence %.3f at or above threshold %.3f", confidence, r.Threshold)}, nil
}

// DefaultThreshold is the threshold of Coco's default router. With the vote
// estimator it keeps the SLM's answer when at least 4 of 5 samples, or 8 of 10,
// agree, and sends the task to the LLM otherwise (the tie-breaks of
// VoteEstimator keep every score of a share within the half-step below it, so
// the threshold falls between shares for both sample counts). Calibrate it on
// your own traces with CalibrateForLoss or CalibrateForShare.
const DefaultThreshold = 0.7

// Labelled is one task of a labelled trace, for calibration: the SLM's
// confidence and whether each model's answer was right.
type Labelled struct {
	Confidence float64
	SLMCorrect bool
	LLMCorrect bool
	// LLMCost is what sending the task to the LLM costs (optional).
	LLMCost Money
}

// CalibrateForShare returns the threshold at which a ThresholdRouter sends
// about share (in [0,1]) of tasks like scores to the LLM: the share-quantile of
// the scores, as RouteLLM calibrates its routers. Tasks with equal scores share
// one fate, so the achieved share can differ from the one asked when scores
// tie; the threshold returned never sends more than share.
func CalibrateForShare(scores []float64, share float64) (float64, error) {
	if len(scores) == 0 {
		return 0, errors.New("coco: calibrate: no scores")
	}
	if math.IsNaN(share) || share < 0 || share > 1 {
		return 0, fmt.Errorf("coco: calibrate: share %v outside [0,1]", share)
	}
	s := sortedScores(scores)
	if s == nil {
		return 0, errors.New("coco: calibrate: a score is NaN")
	}
	limit := int(math.Floor(share*float64(len(s)) + 1e-9))
	// The threshold is the smallest score not sent: every score below it
	// goes to the LLM, and there must be at most limit of those.
	if limit >= len(s) {
		return math.Nextafter(s[len(s)-1], math.Inf(1)), nil
	}
	t := s[limit]
	return t, nil
}

// CalibrateForLoss returns the lowest threshold at which a ThresholdRouter,
// applied to trace, loses at most maxLoss accuracy (a fraction: 0.01 is one
// point) against sending every task to the LLM, and the share of tasks it
// sends there. Lower thresholds send fewer tasks. If no threshold meets the
// target (possible only when maxLoss is negative), the threshold that sends
// every task is returned.
func CalibrateForLoss(trace []Labelled, maxLoss float64) (threshold, llmShare float64, err error) {
	if len(trace) == 0 {
		return 0, 0, errors.New("coco: calibrate: empty trace")
	}
	if math.IsNaN(maxLoss) {
		return 0, 0, errors.New("coco: calibrate: maxLoss is NaN")
	}
	pts, err := Frontier(trace)
	if err != nil {
		return 0, 0, err
	}
	target := pts[len(pts)-1].LLMAccuracy - maxLoss
	for _, p := range pts {
		if p.Accuracy >= target-1e-12 {
			return p.Threshold, p.LLMShare, nil
		}
	}
	last := pts[len(pts)-1]
	return last.Threshold, last.LLMShare, nil
}

// FrontierPoint is one operating point of a threshold router on a trace.
type FrontierPoint struct {
	Threshold float64 // tasks with confidence below it go to the LLM
	LLMShare  float64 // share of tasks sent to the LLM
	Accuracy  float64 // accuracy of the routed answers
	LLMCost   Money   // the LLMCost of the tasks sent to the LLM
	// LLMAccuracy is the accuracy of sending every task to the LLM (the same
	// at every point; kept here so a frontier is self-contained).
	LLMAccuracy float64
}

// Frontier returns every operating point of a threshold router on trace, from
// sending nothing to the LLM to sending everything, one point per distinct
// confidence (tasks with equal confidence share one fate).
func Frontier(trace []Labelled) ([]FrontierPoint, error) {
	n := len(trace)
	if n == 0 {
		return nil, errors.New("coco: frontier: empty trace")
	}
	idx := make([]int, n)
	llmRight := 0
	slmRight := 0
	for i, l := range trace {
		if math.IsNaN(l.Confidence) {
			return nil, fmt.Errorf("coco: frontier: task %d has a NaN confidence", i)
		}
		idx[i] = i
		if l.LLMCorrect {
			llmRight++
		}
		if l.SLMCorrect {
			slmRight++
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return trace[idx[a]].Confidence < trace[idx[b]].Confidence })
	llmAcc := float64(llmRight) / float64(n)
	right := slmRight // nothing routed yet
	var cost Money
	pts := []FrontierPoint{{Threshold: trace[idx[0]].Confidence, LLMShare: 0, Accuracy: float64(right) / float64(n), LLMAccuracy: llmAcc}}
	for i := 0; i < n; {
		c := trace[idx[i]].Confidence
		j := i
		for ; j < n && trace[idx[j]].Confidence == c; j++ {
			l := trace[idx[j]]
			cost += l.LLMCost
			if l.LLMCorrect {
				right++
			}
			if l.SLMCorrect {
				right--
			}
		}
		thr := math.Inf(1)
		if j < n {
			thr = trace[idx[j]].Confidence
		}
		pts = append(pts, FrontierPoint{Threshold: thr, LLMShare: float64(j) / float64(n), Accuracy: float64(right) / float64(n),
			LLMCost: cost, LLMAccuracy: llmAcc})
		i = j
	}
	return pts, nil
}

func sortedScores(scores []float64) []float64 {
	s := make([]float64, len(scores))
	for i, v := range scores {
		if math.IsNaN(v) {
			return nil
		}
		s[i] = v
	}
	sort.Float64s(s)
	return s
}
