package coco

// The default price table. Prices are USD per million tokens as the providers
// publish them; each entry names its source and the date it was read. Prices
// change: load LiteLLM's model_prices_and_context_window.json with LoadLiteLLM
// and Merge it over this table to stay current.

const (
	srcOpenAI    = "openai.com/api/pricing, read 2025-11"
	srcAnthropic = "anthropic.com/pricing (cache read 0.1x, 5-minute cache write 1.25x input), read 2025-11"
	// The Claude 5 generation came out after the table's other entries were
	// read; its prices are as quoted in public price tables of 2026-09 and
	// should be checked against anthropic.com/pricing.
	srcAnthropic5 = "public price tables quoting anthropic.com/pricing, 2026-09 (not checked at the source)"
	srcLocal      = "local model (Ollama, llama.cpp, vLLM on own hardware): no per-token charge"
)

// perM converts a price in dollars per million tokens, written as a decimal
// constant, to a per-token Money. It panics on a malformed constant, which the
// table's tests catch.
func perM(dollars string) Money {
	m, err := ParseMoney(dollars)
	if err != nil {
		panic(err)
	}
	return m / 1_000_000
}

func defaultPriceEntries() map[string]Price {
	openai := func(in, cached, out string, window, maxOut int) Price {
		p := Price{Input: perM(in), Output: perM(out), ContextWindow: window, MaxOutput: maxOut, Source: srcOpenAI}
		if cached != "" {
			p.CachedInput = perM(cached)
		}
		return p
	}
	anthropic := func(in, cacheRead, cacheWrite, out string, maxOut int, src string) Price {
		return Price{Input: perM(in), CachedInput: perM(cacheRead), CacheWrite: perM(cacheWrite), Output: perM(out),
			ContextWindow: 200_000, MaxOutput: maxOut, Source: src}
	}
	local := func(window int) Price { return Price{ContextWindow: window, Source: srcLocal} }

	return map[string]Price{
		// OpenAI
		"gpt-4o":        openai("2.50", "1.25", "10.00", 128_000, 16_384),
		"gpt-4o-mini":   openai("0.15", "0.075", "0.60", 128_000, 16_384),
		"gpt-4.1":       openai("2.00", "0.50", "8.00", 1_047_576, 32_768),
		"gpt-4.1-mini":  openai("0.40", "0.10", "1.60", 1_047_576, 32_768),
		"gpt-4.1-nano":  openai("0.10", "0.025", "0.40", 1_047_576, 32_768),
		"gpt-5":         openai("1.25", "0.125", "10.00", 272_000, 128_000),
		"gpt-5-mini":    openai("0.25", "0.025", "2.00", 272_000, 128_000),
		"gpt-5-nano":    openai("0.05", "0.005", "0.40", 272_000, 128_000),
		"o3":            openai("2.00", "0.50", "8.00", 200_000, 100_000),
		"o4-mini":       openai("1.10", "0.275", "4.40", 200_000, 100_000),
		"gpt-4-0613":    openai("30.00", "", "60.00", 8_192, 4_096),
		"gpt-4":         openai("30.00", "", "60.00", 8_192, 4_096),
		"gpt-4-turbo":   openai("10.00", "", "30.00", 128_000, 4_096),
		"gpt-3.5-turbo": openai("0.50", "", "1.50", 16_385, 4_096),

		// Anthropic
		"claude-opus-4-5":   anthropic("5.00", "0.50", "6.25", "25.00", 64_000, srcAnthropic),
		"claude-sonnet-4-5": anthropic("3.00", "0.30", "3.75", "15.00", 64_000, srcAnthropic),
		"claude-haiku-4-5":  anthropic("1.00", "0.10", "1.25", "5.00", 64_000, srcAnthropic),
		"claude-opus-5":     anthropic("5.00", "0.50", "6.25", "25.00", 64_000, srcAnthropic5),
		"claude-sonnet-5":   anthropic("2.00", "0.20", "2.50", "10.00", 64_000, srcAnthropic5),

		// Local models: Ollama names (a tag such as ":3b" matches its family)
		// and the llama.cpp / Hugging Face names of common small models.
		"llama3.2":    local(131_072),
		"llama3.1":    local(131_072),
		"llama3":      local(8_192),
		"llama2":      local(4_096),
		"llama-2-7b":  local(4_096),
		"llama-2-13b": local(4_096),
		"qwen2.5":     local(32_768),
		"qwen3":       local(40_960),
		"mistral":     local(32_768),
		"phi3":        local(131_072),
		"phi4":        local(16_384),
		"gemma2":      local(8_192),
		"gemma3":      local(131_072),
		"deepseek-r1": local(131_072),
		"gpt-oss":     local(131_072),
		"smollm2":     local(8_192),
	}
}

// DefaultPrices returns a new copy of the default price table, which covers the
// OpenAI and Anthropic models in current use and common local models at $0.
// Each entry's Source says where its price comes from and when it was read.
func DefaultPrices() *PriceTable {
	t, err := NewPriceTable(defaultPriceEntries())
	if err != nil {
		panic(err) // the built-in table is checked by its tests
	}
	return t
}
