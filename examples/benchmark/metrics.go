package main

import (
	"fmt"
	"math"

	"github.com/coco-llm/coco"
)

// point is one operating point of a frontier, as written to JSON.
type point struct {
	// Threshold is nil for the point that sends every task (threshold +Inf).
	Threshold  *float64 `json:"threshold"`
	LLMShare   float64  `json:"llm_share"`
	Accuracy   float64  `json:"accuracy"`
	LLMCostUSD float64  `json:"llm_cost_usd"`
}

type heldout struct {
	Threshold *float64 `json:"threshold"`
	Accuracy  float64  `json:"accuracy"`
	LLMShare  float64  `json:"llm_share"`
	// LLMAccuracy is LLM-only accuracy on the held-out half, for reference.
	LLMAccuracy float64 `json:"llm_accuracy"`
}

// strategyReport is one router's results on a trace.
type strategyReport struct {
	Name string `json:"name"`
	// LLMShareAt1pt is the smallest share of tasks sent to the LLM at which
	// accuracy is at least LLM-only accuracy minus 0.01; CostRatioAt1pt the LLM
	// dollars there over LLM-only dollars.
	LLMShareAt1pt  float64 `json:"llm_share_at_1pt"`
	CostRatioAt1pt float64 `json:"cost_ratio_at_1pt"`
	// CPT95 is the smallest LLM share that recovers 95% of the accuracy gap
	// between SLM-only and LLM-only; nil when there is no gap.
	CPT95 *float64 `json:"cpt95"`
	// APGR is the area under the performance-gap-recovered curve over the
	// LLM share (RouteLLM's average PGR); nil when there is no gap.
	APGR     *float64 `json:"apgr"`
	Heldout  heldout  `json:"heldout"`
	Frontier []point  `json:"frontier"`
}

func finite(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return &x
}

// evaluate computes a strategy's metrics from its per-task labels (in trace
// order). slmAcc and llmAcc are SLM-only and LLM-only accuracy on all tasks,
// llmCost the LLM-only cost.
func evaluate(name string, labels []coco.Labelled, slmAcc, llmAcc float64, llmCost coco.Money) (strategyReport, error) {
	r := strategyReport{Name: name}
	pts, err := coco.Frontier(labels)
	if err != nil {
		return r, err
	}
	for _, p := range pts {
		r.Frontier = append(r.Frontier, point{Threshold: finite(p.Threshold), LLMShare: p.LLMShare,
			Accuracy: p.Accuracy, LLMCostUSD: p.LLMCost.Float()})
	}
	at1 := firstReaching(pts, llmAcc-0.01)
	r.LLMShareAt1pt = at1.LLMShare
	if llmCost > 0 {
		r.CostRatioAt1pt = float64(at1.LLMCost) / float64(llmCost)
	}
	if gap := llmAcc - slmAcc; gap > 0 {
		r.CPT95 = finite(firstReaching(pts, slmAcc+0.95*gap).LLMShare)
		r.APGR = finite(apgr(pts, slmAcc, gap))
	}

	half := len(labels) / 2
	if half == 0 {
		return r, fmt.Errorf("%s: too few tasks to hold half out", name)
	}
	thr, _, err := coco.CalibrateForLoss(labels[:half], 0.01)
	if err != nil {
		return r, err
	}
	r.Heldout = applyThreshold(labels[half:], thr)
	return r, nil
}

// firstReaching returns the frontier's first point (smallest LLM share) whose
// accuracy reaches target, or its last point.
func firstReaching(pts []coco.FrontierPoint, target float64) coco.FrontierPoint {
	for _, p := range pts {
		if p.Accuracy >= target-1e-12 {
			return p
		}
	}
	return pts[len(pts)-1]
}

// apgr integrates the performance gap recovered over the LLM share, from 0 to
// 1, joining the frontier's points by straight lines (any mix of two
// operating points is reachable by routing a random part of the tasks between
// them).
func apgr(pts []coco.FrontierPoint, slmAcc, gap float64) float64 {
	area := 0.0
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		pa, pb := (a.Accuracy-slmAcc)/gap, (b.Accuracy-slmAcc)/gap
		area += (b.LLMShare - a.LLMShare) * (pa + pb) / 2
	}
	return area
}

func applyThreshold(labels []coco.Labelled, thr float64) heldout {
	h := heldout{Threshold: finite(thr)}
	right, llmRight, sent := 0, 0, 0
	for _, l := range labels {
		if l.LLMCorrect {
			llmRight++
		}
		ok := l.SLMCorrect
		if l.Confidence < thr {
			sent++
			ok = l.LLMCorrect
		}
		if ok {
			right++
		}
	}
	n := float64(len(labels))
	h.Accuracy, h.LLMShare, h.LLMAccuracy = float64(right)/n, float64(sent)/n, float64(llmRight)/n
	return h
}
