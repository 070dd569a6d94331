package coco_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coco-llm/coco"
)

func TestDefaultPricesCoverage(t *testing.T) {
	t.Parallel()
	table := coco.DefaultPrices()
	for _, model := range []string{
		"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3", "o4-mini",
		"gpt-4-0613", "gpt-3.5-turbo", "claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5",
		"llama3.2:3b", "qwen2.5:7b", "llama-2-13b",
	} {
		p, err := table.Lookup(model)
		require.NoError(t, err, model)
		assert.NotEmpty(t, p.Source, "%s has no source", model)
		assert.Positive(t, p.ContextWindow, "%s has no context window", model)
		isLocal := strings.HasPrefix(model, "llama") || strings.HasPrefix(model, "qwen")
		assert.Equal(t, isLocal, p.Free(), "%s: only local models are free", model)
		if !isLocal {
			assert.Greater(t, p.Output, p.Input, "%s: output costs more than input", model)
			assert.Positive(t, p.MaxOutput, model)
		}
	}
}

func TestDefaultPricesValues(t *testing.T) {
	t.Parallel()
	table := coco.DefaultPrices()
	perM := func(d float64) coco.Money { return coco.Dollars(d) / 1_000_000 }
	for _, tc := range []struct {
		model       string
		in, cached  float64
		out         float64
		contextSize int
	}{
		{"gpt-4o", 2.50, 1.25, 10, 128_000},
		{"gpt-4o-mini", 0.15, 0.075, 0.60, 128_000},
		{"gpt-4-0613", 30, 0, 60, 8_192},
		{"claude-sonnet-4-5", 3, 0.30, 15, 200_000},
	} {
		p, err := table.Lookup(tc.model)
		require.NoError(t, err)
		assert.Equal(t, perM(tc.in), p.Input, tc.model)
		assert.Equal(t, perM(tc.cached), p.CachedInput, tc.model)
		assert.Equal(t, perM(tc.out), p.Output, tc.model)
		assert.Equal(t, tc.contextSize, p.ContextWindow, tc.model)
	}
}

func TestPriceTableLookup(t *testing.T) {
	t.Parallel()
	table := coco.DefaultPrices()
	gpt4o, err := table.Lookup("gpt-4o")
	require.NoError(t, err)
	for _, name := range []string{"GPT-4o", "openai/gpt-4o", "gpt-4o-2024-08-06", "azure/gpt-4o-2024-11-20"} {
		p, err := table.Lookup(name)
		require.NoError(t, err, name)
		assert.Equal(t, gpt4o, p, name)
	}
	haiku, err := table.Lookup("claude-haiku-4-5-20251001")
	require.NoError(t, err)
	assert.Equal(t, coco.Dollar/1_000_000, haiku.Input)

	for _, name := range []string{"gpt-4o-mini-realtime", "gpt-4-32k", "claude-unknown", "my-model", "", "2024-08-06"} {
		_, err := table.Lookup(name)
		assert.True(t, errors.Is(err, coco.ErrUnknownPrice), "%q: %v", name, err)
	}
	_, err = table.Lookup("mystery-model")
	assert.Contains(t, err.Error(), `"mystery-model"`, "the error names the model")
}

func TestPriceTableSetAndMerge(t *testing.T) {
	t.Parallel()
	table := coco.DefaultPrices()
	require.Error(t, table.Set("bad", coco.Price{Input: -1}))
	require.Error(t, table.Set(" ", coco.Price{}))
	require.NoError(t, table.Set("House-Model", coco.Price{Input: 7, Output: 9}))
	p, err := table.Lookup("house-model")
	require.NoError(t, err)
	assert.Equal(t, coco.Money(7), p.Input)

	over, err := coco.NewPriceTable(map[string]coco.Price{"gpt-4o": {Input: 1, Output: 2}})
	require.NoError(t, err)
	table.Merge(over)
	p, err = table.Lookup("gpt-4o")
	require.NoError(t, err)
	assert.Equal(t, coco.Money(1), p.Input)

	fresh, err := coco.DefaultPrices().Lookup("gpt-4o")
	require.NoError(t, err)
	assert.NotEqual(t, coco.Money(1), fresh.Input, "DefaultPrices returns a copy")
	assert.Contains(t, table.Models(), "house-model")

	_, err = coco.NewPriceTable(map[string]coco.Price{"neg": {ContextWindow: -1}})
	assert.True(t, errors.Is(err, coco.ErrInvalidPrice))
}

func TestPriceCost(t *testing.T) {
	t.Parallel()
	perM := func(d float64) coco.Money { return coco.Dollars(d) / 1_000_000 }
	p := coco.Price{Input: perM(3), CachedInput: perM(0.30), CacheWrite: perM(3.75), Output: perM(15), Reasoning: perM(20)}
	for _, tc := range []struct {
		name string
		u    coco.Usage
		want coco.Money
	}{
		{"nothing", coco.Usage{}, 0},
		{"plain", coco.Usage{InputTokens: 1_000_000, OutputTokens: 1_000_000}, coco.Dollars(18)},
		{"cached part", coco.Usage{InputTokens: 1_000_000, CachedInputTokens: 500_000}, coco.Dollars(1.5 + 0.15)},
		{"cache write part", coco.Usage{InputTokens: 1_000_000, CacheWriteTokens: 1_000_000}, coco.Dollars(3.75)},
		{"reasoning part", coco.Usage{OutputTokens: 1_000_000, ReasoningTokens: 250_000}, coco.Dollars(15*0.75 + 20*0.25)},
		{"parts exceed whole", coco.Usage{InputTokens: 10, CachedInputTokens: 20}, 20 * perM(0.30)},
		{"one token", coco.Usage{InputTokens: 1}, 3 * coco.Microdollar},
	} {
		got, err := p.Cost(tc.u)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}

	// Zero cached, cache-write and reasoning prices mean the input and output prices.
	plain := coco.Price{Input: perM(2), Output: perM(8)}
	got, err := plain.Cost(coco.Usage{InputTokens: 100, CachedInputTokens: 40, CacheWriteTokens: 10, OutputTokens: 50, ReasoningTokens: 30})
	require.NoError(t, err)
	assert.Equal(t, 100*perM(2)+50*perM(8), got)

	_, err = coco.Price{Input: coco.Dollar}.Cost(coco.Usage{InputTokens: 1 << 30})
	assert.True(t, errors.Is(err, coco.ErrOverflow), "a billion tokens at a dollar each is out of range: %v", err)
}

func TestLoadLiteLLM(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/litellm-prices.json")
	require.NoError(t, err)
	defer f.Close()
	table, err := coco.LoadLiteLLM(f)
	require.NoError(t, err)

	assert.ElementsMatch(t, []string{"gpt-4o", "example-reasoner", "example/legacy-completion", "ollama/llama3.2:3b"}, table.Models(),
		"sample_spec, non-chat modes and entries without token prices are skipped")

	r, err := table.Lookup("example-reasoner")
	require.NoError(t, err)
	assert.Equal(t, coco.Price{
		Input: 2_187_500, CachedInput: 546_875, CacheWrite: 3_750_000, Output: 17_500_000, Reasoning: 35_000_000,
		ContextWindow: 1_000_000, MaxOutput: 64_000, Source: "LiteLLM model_prices_and_context_window.json (example)",
	}, r)

	legacy, err := table.Lookup("example/legacy-completion")
	require.NoError(t, err)
	assert.Equal(t, 4097, legacy.MaxOutput, "max_tokens is the output limit when max_output_tokens is absent")

	local, err := table.Lookup("ollama/llama3.2:3b")
	require.NoError(t, err)
	assert.True(t, local.Free())

	_, err = table.Lookup("example-chat-priced-per-character")
	assert.True(t, errors.Is(err, coco.ErrUnknownPrice), "a skipped entry is unknown, not $0")
}

func TestLoadLiteLLMSharedSample(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../shared/data/litellm-prices-sample.json")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("../shared/data/litellm-prices-sample.json is absent: the shared data is not laid out beside this checkout")
	}
	require.NoError(t, err)
	defer f.Close()
	table, err := coco.LoadLiteLLM(f)
	require.NoError(t, err)
	p, err := table.Lookup("amazon.nova-2-pro-preview-20251202-v1:0")
	require.NoError(t, err)
	assert.Equal(t, coco.Money(546_875), p.CachedInput, "5.46875e-07 dollars is exact")
	g, err := table.Lookup("gpt-4-0613")
	require.NoError(t, err)
	assert.Equal(t, 30*coco.Microdollar, g.Input)
	assert.Equal(t, 8192, g.ContextWindow)
	assert.NotContains(t, table.Models(), "sample_spec")
}

func TestLoadLiteLLMMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json, wantInError string
	}{
		{"not json", `{"gpt-4o": `, "LiteLLM prices"},
		{"not an object", `[1, 2]`, "LiteLLM prices"},
		{"entry not an object", `{"gpt-x": 5}`, `"gpt-x"`},
		{"price is a string", `{"gpt-x": {"mode": "chat", "input_cost_per_token": "0.1", "output_cost_per_token": 1e-6}}`, `"gpt-x": input_cost_per_token`},
		{"negative price", `{"gpt-y": {"mode": "chat", "input_cost_per_token": -1e-6}}`, `"gpt-y": input_cost_per_token`},
		{"bad cache price", `{"gpt-z": {"input_cost_per_token": 1e-6, "cache_read_input_token_cost": true}}`, `"gpt-z": cache_read_input_token_cost`},
		{"fractional limit", `{"m": {"input_cost_per_token": 1e-6, "max_input_tokens": 12.5}}`, `"m": max_input_tokens`},
		{"negative limit", `{"m": {"input_cost_per_token": 1e-6, "max_output_tokens": -3}}`, `"m": max_output_tokens`},
		{"mode not a string", `{"m": {"input_cost_per_token": 1e-6, "mode": 3}}`, `"m": mode`},
		{"huge price", `{"m": {"input_cost_per_token": 1e300}}`, `"m": input_cost_per_token`},
	} {
		_, err := coco.LoadLiteLLM(strings.NewReader(tc.json))
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.wantInError, tc.name)
		assert.True(t, strings.HasPrefix(err.Error(), "coco: "), tc.name)
	}
	table, err := coco.LoadLiteLLM(strings.NewReader(`{}`))
	require.NoError(t, err)
	assert.Empty(t, table.Models())
}

func FuzzLoadLiteLLM(f *testing.F) {
	seed, err := os.ReadFile("testdata/litellm-prices.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"m": {"input_cost_per_token": 5.46875e-07, "max_tokens": 10}}`))
	f.Add([]byte(`{"m": {"mode": "chat", "input_cost_per_token": "x"}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := coco.LoadLiteLLM(strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "coco: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		for _, name := range table.Models() {
			p, err := table.Lookup(name)
			if err != nil {
				t.Fatalf("loaded %q but cannot look it up: %v", name, err)
			}
			if p.Input < 0 || p.Output < 0 || p.CachedInput < 0 || p.CacheWrite < 0 || p.Reasoning < 0 ||
				p.ContextWindow < 0 || p.MaxOutput < 0 {
				t.Fatalf("%q loaded with a negative field: %+v", name, p)
			}
		}
	})
}
