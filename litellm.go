package coco

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
)

// LoadLiteLLM reads a price table in the format of LiteLLM's
// model_prices_and_context_window.json: an object mapping model names to entries
// with prices in USD per token (input_cost_per_token, output_cost_per_token and
// the optional cache_read_input_token_cost, cache_creation_input_token_cost and
// output_cost_per_reasoning_token) and limits (max_input_tokens,
// max_output_tokens, or the legacy max_tokens for the output).
//
// Prices are read from their decimal text, so 5.46875e-07 is exactly 546,875
// picodollars. Entries that carry no token prices are skipped: the
// "sample_spec" entry, entries whose mode is neither chat, completion nor
// responses, and entries with neither an input nor an output token price; a
// skipped model is then ErrUnknownPrice, never $0. A malformed entry (a price
// that is not a non-negative number, a limit that is not a count) makes the
// whole load fail with an error naming the entry and field.
//
// Merge the result over DefaultPrices to override the built-in table.
func LoadLiteLLM(r io.Reader) (*PriceTable, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("coco: reading LiteLLM prices: %w", err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("coco: LiteLLM prices: %w", err)
	}
	t := &PriceTable{prices: make(map[string]Price, len(entries))}
	for name, raw := range entries {
		p, ok, err := liteLLMEntry(raw)
		if err == nil && ok {
			err = t.Set(name, p)
		}
		if err != nil {
			return nil, fmt.Errorf("coco: LiteLLM prices: entry %q: %w", name, err)
		}
	}
	return t, nil
}

// liteLLMEntry converts one entry; ok is false for entries without token prices.
func liteLLMEntry(raw json.RawMessage) (p Price, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var e map[string]any
	if err := dec.Decode(&e); err != nil {
		return Price{}, false, fmt.Errorf("%w: not an object", ErrInvalidPrice)
	}
	if e == nil {
		return Price{}, false, nil
	}
	if mode, present := e["mode"]; present && mode != nil {
		s, isString := mode.(string)
		if !isString {
			return Price{}, false, fmt.Errorf("mode: not a string")
		}
		if s != "chat" && s != "completion" && s != "responses" {
			return Price{}, false, nil
		}
	}
	_, hasIn := e["input_cost_per_token"]
	_, hasOut := e["output_cost_per_token"]
	if !hasIn && !hasOut {
		return Price{}, false, nil
	}
	prices := []struct {
		key string
		dst *Money
	}{
		{"input_cost_per_token", &p.Input},
		{"output_cost_per_token", &p.Output},
		{"cache_read_input_token_cost", &p.CachedInput},
		{"cache_creation_input_token_cost", &p.CacheWrite},
		{"output_cost_per_reasoning_token", &p.Reasoning},
	}
	for _, f := range prices {
		if *f.dst, err = liteLLMPrice(e[f.key]); err != nil {
			return Price{}, false, fmt.Errorf("%s: %w", f.key, err)
		}
	}
	limits := []struct {
		key string
		dst *int
	}{
		{"max_input_tokens", &p.ContextWindow},
		{"max_tokens", &p.MaxOutput},
		{"max_output_tokens", &p.MaxOutput}, // wins over the legacy max_tokens
	}
	for _, f := range limits {
		n, present, err := liteLLMCount(e[f.key])
		if err != nil {
			return Price{}, false, fmt.Errorf("%s: %w", f.key, err)
		}
		if present {
			*f.dst = n
		}
	}
	p.Source = "LiteLLM model_prices_and_context_window.json"
	if prov, isString := e["litellm_provider"].(string); isString && prov != "" {
		p.Source += " (" + prov + ")"
	}
	return p, true, nil
}

func liteLLMPrice(v any) (Money, error) {
	if v == nil {
		return 0, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: %v is not a number", ErrInvalidPrice, v)
	}
	m, err := ParseMoney(string(n))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalidPrice, err)
	}
	if m < 0 {
		return 0, fmt.Errorf("%w: negative price %s", ErrInvalidPrice, n)
	}
	return m, nil
}

func liteLLMCount(v any) (n int, present bool, err error) {
	if v == nil {
		return 0, false, nil
	}
	num, ok := v.(json.Number)
	if !ok {
		return 0, false, fmt.Errorf("%w: %v is not a token count", ErrInvalidPrice, v)
	}
	if i, err := strconv.ParseInt(string(num), 10, 64); err == nil && i >= 0 && i <= math.MaxInt32 {
		return int(i), true, nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f < 0 || f > math.MaxInt32 || f != math.Trunc(f) {
		return 0, false, fmt.Errorf("%w: %s is not a token count", ErrInvalidPrice, num)
	}
	return int(f), true, nil
}
