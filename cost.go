package coco

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
)

// The stages Coco's pipeline meters its calls under. The set is open: any
// non-empty string is a stage.
const (
	StageSLM      = "slm"
	StageCompress = "compress"
	StageLLM      = "llm"
	StageAlign    = "align"
)

// estimateMargin scales a prompt count made with another family's tokenizer
// before it is reserved against a budget, so that a budget stays a hard cap
// when the real tokenizer counts up to half again as many tokens.
const estimateMarginNum, estimateMarginDen = 3, 2

// Record is one metered call.
type Record struct {
	Stage string
	Model string
	Usage Usage
	Cost  Money
	// Unpriced is true when the model has no price and the meter was told to
	// allow that: the cost is then $0 and says nothing.
	Unpriced bool
	// Failed is true when the call failed; Usage is what the provider billed
	// for it anyway.
	Failed bool
}

// MeterOptions configures a Meter. The zero value means: the default price
// table, no budget, unknown models are an error.
type MeterOptions struct {
	// Prices prices the calls; nil means DefaultPrices().
	Prices *PriceTable

	// Budget caps what the meter lets calls spend; 0 means no cap and a
	// negative budget is an error. See Meter for how the cap holds.
	Budget Money

	// AllowUnpriced records calls to models missing from Prices at $0
	// instead of failing with ErrUnknownPrice. Such calls are marked Unpriced,
	// and Report lists their models.
	AllowUnpriced bool

	// Counter counts tokens where a provider reported none, and estimates a
	// prompt before it is sent; nil means the zero TokenCounter.
	Counter *TokenCounter

	// OnRecord, if not nil, is called after every record, outside the
	// meter's lock, from the goroutine that recorded. It must be safe for
	// concurrent use.
	OnRecord func(Record)
}

// Meter records the usage and cost of model calls per stage and per model,
// and enforces a budget.
//
// The budget is a hard cap, also under concurrent calls: Reserve (or Call)
// holds a call's worst-case cost before it is sent (its prompt tokens, counted
// locally and given a 50% margin when the tokenizer is not the model's own, and
// max output tokens, both for every sample, at the dearest rates), and the hold is
// settled to the real cost when the call returns. A call whose worst case does
// not fit next to what is spent and held fails with ErrBudgetExceeded and is
// never sent. Calls to free models ($0, such as local ones) are never blocked.
//
// A Meter keeps one line of totals per stage and model, not every record, so
// its memory does not grow with the number of calls. The zero value is a meter
// with the default options; a Meter is safe for concurrent use.
type Meter struct {
	opts       MeterOptions
	pricesOnce sync.Once
	prices     *PriceTable

	mu       sync.Mutex
	lines    map[lineKey]*Line
	spent    Money // the sum of the lines' costs, kept so that it is checked for overflow
	reserved Money
}

type lineKey struct{ stage, model string }

// Line is the totals of the calls of one stage to one model (or, in
// Report.ByModel, Report.ByStage and Report.Total, of a group of them, with
// the grouped field left empty).
type Line struct {
	Stage string
	Model string
	Calls int
	// FailedCalls counts the calls that failed but were billed.
	FailedCalls int
	// EstimatedCalls counts the calls whose usage was counted locally in part
	// or whole.
	EstimatedCalls int
	Usage          Usage
	Cost           Money
	// Unpriced is true when some calls were recorded at $0 for want of a price.
	Unpriced bool
}

// NewMeter returns a Meter with opts, or an error if they are invalid.
func NewMeter(opts MeterOptions) (*Meter, error) {
	if opts.Budget < 0 {
		return nil, fmt.Errorf("coco: negative budget %s", opts.Budget)
	}
	return &Meter{opts: opts}, nil
}

// Prices returns the price table the meter uses.
func (m *Meter) Prices() *PriceTable {
	m.pricesOnce.Do(func() {
		m.prices = m.opts.Prices
		if m.prices == nil {
			m.prices = DefaultPrices()
		}
	})
	return m.prices
}

// Budget returns the meter's budget; 0 means none.
func (m *Meter) Budget() Money { return m.opts.Budget }

// price looks model up, honouring AllowUnpriced.
func (m *Meter) price(model string) (p Price, unpriced bool, err error) {
	p, err = m.Prices().Lookup(model)
	if err != nil {
		if m.opts.AllowUnpriced && errors.Is(err, ErrUnknownPrice) {
			return Price{}, true, nil
		}
		return Price{}, false, err
	}
	return p, false, nil
}

// Record records a finished call of stage to model with usage u and returns the
// record with its cost. It fails with ErrUnknownPrice for a model that has no
// price (unless AllowUnpriced) and records nothing then.
func (m *Meter) Record(stage, model string, u Usage) (Record, error) {
	return m.record(stage, model, u, false, 0)
}

func (m *Meter) record(stage, model string, u Usage, failed bool, release Money) (Record, error) {
	if stage == "" {
		return Record{}, errors.New("coco: meter: empty stage name")
	}
	p, unpriced, err := m.price(model)
	if err != nil {
		return Record{}, err
	}
	cost, err := p.Cost(u)
	if err != nil {
		return Record{}, fmt.Errorf("coco: meter: cost of %s: %w", model, err)
	}
	rec := Record{Stage: stage, Model: model, Usage: u, Cost: cost, Unpriced: unpriced, Failed: failed}

	m.mu.Lock()
	k := lineKey{stage, model}
	l := m.lines[k]
	if l == nil {
		if m.lines == nil {
			m.lines = make(map[lineKey]*Line)
		}
		l = &Line{Stage: stage, Model: model}
		m.lines[k] = l
	}
	spent, err := addMoney(m.spent, cost)
	if err != nil {
		m.mu.Unlock()
		return Record{}, fmt.Errorf("coco: meter: total spent: %w", err)
	}
	m.spent = spent
	l.Cost += cost // no overflow: l.Cost <= m.spent
	l.Calls++
	l.Usage = l.Usage.Add(u)
	if u.Estimated {
		l.EstimatedCalls++
	}
	if failed {
		l.FailedCalls++
	}
	l.Unpriced = l.Unpriced || unpriced
	m.reserved -= release
	m.mu.Unlock()

	if m.opts.OnRecord != nil {
		m.opts.OnRecord(rec)
	}
	return rec, nil
}

// Reservation is a hold on the budget for one call, made before the call is
// sent. Exactly one of Settle or Release must be called on it; later calls do
// nothing.
type Reservation struct {
	m            *Meter
	stage, model string
	amount       Money
	once         sync.Once
}

// Amount returns the money held: the call's worst-case cost, or 0 when the
// meter has no budget or the model is free.
func (r *Reservation) Amount() Money { return r.amount }

// Settle records the call's real usage and releases the hold.
func (r *Reservation) Settle(u Usage) (rec Record, err error) {
	return r.settle(u, false)
}

func (r *Reservation) settle(u Usage, failed bool) (rec Record, err error) {
	err = errors.New("coco: meter: reservation already settled or released")
	r.once.Do(func() {
		rec, err = r.m.record(r.stage, r.model, u, failed, r.amount)
		if err != nil { // the record failed: still give the hold back
			r.m.release(r.amount)
		}
	})
	return rec, err
}

// Release gives the hold back without recording anything: the call was not
// sent, or failed without being billed.
func (r *Reservation) Release() {
	r.once.Do(func() { r.m.release(r.amount) })
}

func (m *Meter) release(amount Money) {
	if amount == 0 {
		return
	}
	m.mu.Lock()
	m.reserved -= amount
	m.mu.Unlock()
}

// Reserve holds the worst-case cost of sending req to model under stage (see
// Meter). It fails with ErrUnknownPrice for an unpriced model, with
// ErrNoOutputLimit when a budget is set and the output cannot be bounded, and
// with ErrBudgetExceeded when the worst case does not fit; nothing is held then.
func (m *Meter) Reserve(stage, model string, req Request) (*Reservation, error) {
	if stage == "" {
		return nil, errors.New("coco: meter: empty stage name")
	}
	p, _, err := m.price(model)
	if err != nil {
		return nil, err
	}
	r := &Reservation{m: m, stage: stage, model: model}
	if m.opts.Budget == 0 || p.Free() {
		return r, nil
	}
	worst, err := m.worstCase(model, p, req)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	spent := m.spent
	committed, err := addMoney(spent, m.reserved)
	if err == nil {
		committed, err = addMoney(committed, worst)
	}
	if err != nil || committed > m.opts.Budget {
		return nil, fmt.Errorf("%w: %s call to %s may cost up to %s; %s of %s spent, %s held",
			ErrBudgetExceeded, stage, model, worst, spent, m.opts.Budget, m.reserved)
	}
	m.reserved += worst
	r.amount = worst
	return r, nil
}

func (m *Meter) worstCase(model string, p Price, req Request) (Money, error) {
	maxOut := req.MaxTokens
	if maxOut <= 0 {
		maxOut = p.MaxOutput
	}
	if maxOut <= 0 {
		return 0, fmt.Errorf("%w: request to %s sets no MaxTokens and its price entry no MaxOutput", ErrNoOutputLimit, model)
	}
	in, err := m.opts.Counter.CountChat(model, req.Messages)
	if err != nil {
		return 0, err
	}
	inTokens := in.Tokens
	if in.Estimated {
		inTokens = (inTokens*estimateMarginNum + estimateMarginDen - 1) / estimateMarginDen
	}
	// A provider that ignores n is asked k times, and bills the prompt each
	// time: the worst case counts it k times too.
	return p.worstCase(inTokens*req.SampleCount(), maxOut*req.SampleCount())
}

// Spent returns the cost of every recorded call.
func (m *Meter) Spent() Money {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.spent
}

// Remaining returns what is left of the budget after what is spent and held,
// or 0 if the meter has no budget.
func (m *Meter) Remaining() Money {
	if m.opts.Budget == 0 {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return max(m.opts.Budget-m.spent-m.reserved, 0)
}

// Call sends req to model under stage, metered: it reserves the worst-case cost
// (see Meter), calls the model, fills the usage the provider did not report
// with local counts (marked Estimated), and records the call. The model's name
// (its Namer) is the price key.
//
// When the model fails, the call is recorded as failed if the model returned a
// response with usage (tokens the provider billed), and the error comes back as
// a *StageError. The returned response's Usage is the usage recorded.
func (m *Meter) Call(ctx context.Context, stage string, model Model, req Request) (*Response, Record, error) {
	name := ModelName(model)
	if name == "" {
		return nil, Record{}, &StageError{Stage: stage, Err: ErrUnnamedModel}
	}
	res, err := m.Reserve(stage, name, req)
	if err != nil {
		return nil, Record{}, &StageError{Stage: stage, Model: name, Err: err}
	}
	resp, callErr := model.Generate(ctx, req)
	if callErr != nil {
		if resp != nil && resp.Usage.Total() > 0 {
			rec, err := res.settle(resp.Usage, true)
			if err != nil {
				return nil, Record{}, &StageError{Stage: stage, Model: name, Err: errors.Join(callErr, err)}
			}
			return nil, rec, &StageError{Stage: stage, Model: name, Err: callErr}
		}
		res.Release()
		return nil, Record{}, &StageError{Stage: stage, Model: name, Err: callErr}
	}
	if resp == nil || len(resp.Samples) == 0 {
		// Nothing came back to count; what the provider reported is all we know.
		var u Usage
		if resp != nil {
			u = resp.Usage
		}
		rec, _ := res.settle(u, true)
		return nil, rec, &StageError{Stage: stage, Model: name, Err: ErrEmptyResponse}
	}
	resp.Usage, err = m.fillUsage(name, req, resp)
	if err != nil {
		res.Release()
		return nil, Record{}, &StageError{Stage: stage, Model: name, Err: err}
	}
	rec, err := res.Settle(resp.Usage)
	if err != nil {
		return nil, Record{}, &StageError{Stage: stage, Model: name, Err: err}
	}
	return resp, rec, nil
}

// fillUsage returns resp's usage with the counts the provider left at zero
// counted locally: the prompt once (as a provider bills n samples of one
// prompt) and the text of every sample.
func (m *Meter) fillUsage(model string, req Request, resp *Response) (Usage, error) {
	u := resp.Usage
	if u.InputTokens == 0 && len(req.Messages) > 0 {
		n, err := m.opts.Counter.CountChat(model, req.Messages)
		if err != nil {
			return u, err
		}
		u.InputTokens, u.Estimated = n.Tokens, true
	}
	if u.OutputTokens == 0 {
		total := 0
		for _, s := range resp.Samples {
			n, err := m.opts.Counter.Count(model, s.Text)
			if err != nil {
				return u, err
			}
			total += n.Tokens
		}
		if total > 0 {
			u.OutputTokens, u.Estimated = total, true
		}
	}
	return u, nil
}

// Counterfactual returns what the recorded usage would have cost on model: the
// same token counts priced at model's rates. With stages, only those stages'
// calls count. Token counts are taken as they are although another model's
// tokenizer would count the same text differently, so the result is an
// estimate of that order.
func (m *Meter) Counterfactual(model string, stages ...string) (Money, error) {
	p, _, err := m.price(model)
	if err != nil {
		return 0, err
	}
	var u Usage
	m.mu.Lock()
	for k, l := range m.lines {
		if len(stages) == 0 || slices.Contains(stages, k.stage) {
			u = u.Add(l.Usage)
		}
	}
	m.mu.Unlock()
	return p.Cost(u)
}

// Report is a snapshot of a Meter.
type Report struct {
	// Lines holds the totals per stage and model, sorted by stage then model.
	Lines []Line
	// Total adds up every line.
	Total Line
	// Budget is the meter's budget (0: none), Reserved what is held for calls
	// in flight.
	Budget, Reserved Money
	// Unpriced lists the models recorded at $0 for want of a price.
	Unpriced []string
}

// Report returns a snapshot of the meter's totals.
func (m *Meter) Report() Report {
	m.mu.Lock()
	r := Report{Budget: m.opts.Budget, Reserved: m.reserved, Lines: make([]Line, 0, len(m.lines))}
	for _, l := range m.lines {
		r.Lines = append(r.Lines, *l)
	}
	m.mu.Unlock()
	sort.Slice(r.Lines, func(i, j int) bool {
		if r.Lines[i].Stage != r.Lines[j].Stage {
			return r.Lines[i].Stage < r.Lines[j].Stage
		}
		return r.Lines[i].Model < r.Lines[j].Model
	})
	r.Total = sumLines(r.Lines, "", "")
	seen := map[string]bool{}
	for _, l := range r.Lines {
		if l.Unpriced && !seen[l.Model] {
			seen[l.Model] = true
			r.Unpriced = append(r.Unpriced, l.Model)
		}
	}
	sort.Strings(r.Unpriced)
	return r
}

// ByModel returns the totals per model, sorted by model.
func (r Report) ByModel() []Line {
	return group(r.Lines, func(l Line) string { return l.Model }, func(k string) (string, string) { return "", k })
}

// ByStage returns the totals per stage, sorted by stage.
func (r Report) ByStage() []Line {
	return group(r.Lines, func(l Line) string { return l.Stage }, func(k string) (string, string) { return k, "" })
}

func group(lines []Line, key func(Line) string, names func(string) (stage, model string)) []Line {
	byKey := map[string][]Line{}
	var keys []string
	for _, l := range lines {
		k := key(l)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], l)
	}
	sort.Strings(keys)
	out := make([]Line, 0, len(keys))
	for _, k := range keys {
		stage, model := names(k)
		out = append(out, sumLines(byKey[k], stage, model))
	}
	return out
}

// sumLines adds lines up. Costs are never negative and the meter checked their
// sum for overflow as it recorded them, so a plain sum of any subset is safe.
func sumLines(lines []Line, stage, model string) Line {
	s := Line{Stage: stage, Model: model}
	for _, l := range lines {
		s.Calls += l.Calls
		s.FailedCalls += l.FailedCalls
		s.EstimatedCalls += l.EstimatedCalls
		s.Usage = s.Usage.Add(l.Usage)
		s.Cost += l.Cost
		s.Unpriced = s.Unpriced || l.Unpriced
	}
	return s
}

// String renders the report as a table: one row per stage and model, then the
// total, and the budget if there is one. Estimated usage is marked "~".
func (r Report) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "stage\tmodel\tcalls\tinput\tcached\toutput\treasoning\tcost\t")
	row := func(l Line) {
		est := ""
		if l.EstimatedCalls > 0 {
			est = "~"
		}
		cost := l.Cost.String()
		if l.Unpriced {
			cost += " (unpriced)"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s%d\t%d\t%s%d\t%d\t%s\t\n", l.Stage, l.Model, l.Calls,
			est, l.Usage.InputTokens, l.Usage.CachedInputTokens, est, l.Usage.OutputTokens, l.Usage.ReasoningTokens, cost)
	}
	for _, l := range r.Lines {
		row(l)
	}
	t := r.Total
	t.Stage = "total"
	row(t)
	w.Flush()
	if r.Budget > 0 {
		fmt.Fprintf(&b, "budget %s: %s spent, %s held\n", r.Budget, r.Total.Cost, r.Reserved)
	}
	if r.Total.EstimatedCalls > 0 {
		fmt.Fprintf(&b, "~ estimated for %d of %d calls: counted locally, or with a tokenizer not the model's own\n", r.Total.EstimatedCalls, r.Total.Calls)
	}
	return b.String()
}
