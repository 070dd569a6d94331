package coco

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Price is what one model charges, per token, with what is known of its limits.
//
// Amounts are per token: a price of $2.50 per million tokens is
// Dollars(2.50)/1_000_000 (2,500,000 picodollars, exact). A zero CachedInput or
// CacheWrite means the input price, and a zero Reasoning the output price,
// which is what providers that do not price them separately charge.
type Price struct {
	Input       Money // per uncached input token
	CachedInput Money // per input token read from a prompt cache
	CacheWrite  Money // per input token written to a prompt cache
	Output      Money // per output token (reasoning tokens included unless Reasoning is set)
	Reasoning   Money // per reasoning token

	ContextWindow int // input tokens the model accepts; 0 if unknown
	MaxOutput     int // output tokens the model can produce in one call; 0 if unknown

	// Source says where the price comes from and when it was read.
	Source string
}

// Free reports whether every token of the model costs nothing (a local model).
// A budget never blocks a free model.
func (p Price) Free() bool {
	return p.Input == 0 && p.CachedInput == 0 && p.CacheWrite == 0 && p.Output == 0 && p.Reasoning == 0
}

func (p Price) validate() error {
	for _, f := range []struct {
		name string
		v    Money
	}{{"input", p.Input}, {"cached input", p.CachedInput}, {"cache write", p.CacheWrite}, {"output", p.Output}, {"reasoning", p.Reasoning}} {
		if f.v < 0 {
			return fmt.Errorf("%w: negative %s price %s", ErrInvalidPrice, f.name, f.v)
		}
	}
	if p.ContextWindow < 0 || p.MaxOutput < 0 {
		return fmt.Errorf("%w: negative token limit", ErrInvalidPrice)
	}
	return nil
}

func orDefault(v, def Money) Money {
	if v == 0 {
		return def
	}
	return v
}

// Cost returns the exact cost of u at p. Cached and cache-write tokens are part
// of InputTokens, and reasoning tokens part of OutputTokens (see Usage); a
// usage whose parts exceed its whole is charged for its parts.
func (p Price) Cost(u Usage) (Money, error) {
	uncached := max(u.InputTokens-u.CachedInputTokens-u.CacheWriteTokens, 0)
	visible := max(u.OutputTokens-u.ReasoningTokens, 0)
	var total Money
	for _, part := range [...]struct {
		price  Money
		tokens int
	}{
		{p.Input, uncached},
		{orDefault(p.CachedInput, p.Input), u.CachedInputTokens},
		{orDefault(p.CacheWrite, p.Input), u.CacheWriteTokens},
		{p.Output, visible},
		{orDefault(p.Reasoning, p.Output), u.ReasoningTokens},
	} {
		c, err := mulTokens(part.price, part.tokens)
		if err != nil {
			return 0, err
		}
		if total, err = addMoney(total, c); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// worstCase returns the most a call can cost with inputTokens of prompt and
// outputTokens of output: no cache discount, every output token at the dearer
// of the output and reasoning prices.
func (p Price) worstCase(inputTokens, outputTokens int) (Money, error) {
	in, err := mulTokens(max(p.Input, p.CacheWrite), inputTokens)
	if err != nil {
		return 0, err
	}
	out, err := mulTokens(max(p.Output, p.Reasoning), outputTokens)
	if err != nil {
		return 0, err
	}
	return addMoney(in, out)
}

// PriceTable maps model names to prices. It is safe for concurrent use.
//
// Lookup finds a model by its exact name (case-insensitive); failing that, by
// the name without a provider prefix ("openai/gpt-4o"), without a date suffix
// ("gpt-4o-2024-08-06", "claude-haiku-4-5-20251001") and without an Ollama tag
// ("llama3.2:3b"), in that order. It never guesses beyond that: a model it cannot
// find is ErrUnknownPrice.
type PriceTable struct {
	mu     sync.RWMutex
	prices map[string]Price
}

// NewPriceTable returns a table holding prices, or an error naming the first
// invalid entry.
func NewPriceTable(prices map[string]Price) (*PriceTable, error) {
	t := &PriceTable{prices: make(map[string]Price, len(prices))}
	for name, p := range prices {
		if err := t.Set(name, p); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Set adds or replaces the price of model.
func (t *PriceTable) Set(model string, p Price) error {
	key := strings.ToLower(strings.TrimSpace(model))
	if key == "" {
		return fmt.Errorf("%w: empty model name", ErrInvalidPrice)
	}
	if err := p.validate(); err != nil {
		return fmt.Errorf("coco: price of %q: %w", model, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prices == nil {
		t.prices = make(map[string]Price)
	}
	t.prices[key] = p
	return nil
}

// Merge copies every entry of o into t, replacing t's entries of the same name.
func (t *PriceTable) Merge(o *PriceTable) {
	o.mu.RLock()
	entries := make(map[string]Price, len(o.prices))
	for k, v := range o.prices {
		entries[k] = v
	}
	o.mu.RUnlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.prices == nil {
		t.prices = make(map[string]Price, len(entries))
	}
	for k, v := range entries {
		t.prices[k] = v
	}
}

// Models returns the names in the table, sorted.
func (t *PriceTable) Models() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	names := make([]string, 0, len(t.prices))
	for k := range t.prices {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// dateSuffix matches the snapshot dates providers append to model names:
// -2024-08-06, -20251001, -0613.
var dateSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$`)

// Lookup returns the price of model (see PriceTable for how names match), or an
// error wrapping ErrUnknownPrice.
func (t *PriceTable) Lookup(model string) (Price, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	full := strings.ToLower(strings.TrimSpace(model))
	for _, name := range lookupNames(full) {
		if p, ok := t.prices[name]; ok {
			return p, nil
		}
	}
	return Price{}, fmt.Errorf("%w: %q", ErrUnknownPrice, model)
}

// lookupNames lists the names Lookup tries for model, most specific first.
func lookupNames(full string) []string {
	names := []string{full}
	base := baseModelName(full)
	if base != full {
		names = append(names, base)
	}
	if d := dateSuffix.FindStringIndex(base); d != nil && d[0] > 0 {
		names = append(names, base[:d[0]])
	}
	if i := strings.IndexByte(base, ':'); i > 0 {
		names = append(names, base[:i])
	}
	return names
}
