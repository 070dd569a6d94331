package coco

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Tokenizer counts the tokens of a text in one vocabulary. Implementations must
// be safe for concurrent use.
type Tokenizer interface {
	CountTokens(text string) int
}

// TokenizerFunc adapts a function to the Tokenizer interface.
type TokenizerFunc func(text string) int

// CountTokens calls f(text).
func (f TokenizerFunc) CountTokens(text string) int { return f(text) }

// The tiktoken encodings that Encoding serves, all from files embedded in the
// binary (about 7 MB): no download, ever.
const (
	EncodingO200K  = "o200k_base"
	EncodingCL100K = "cl100k_base"
	EncodingP50K   = "p50k_base"
	EncodingR50K   = "r50k_base"
)

// encoder is one tiktoken encoding, built on first use and shared after: a built
// encoder is safe for concurrent use, and building one costs 35-170 ms and
// 7-23 MiB, so it must never happen per call.
type encoder struct {
	once sync.Once
	tk   *tiktoken.Tiktoken
	err  error
}

// maxRun is the longest run of non-space bytes counted in one piece.
// tiktoken's byte-pair merge takes time quadratic in the length of a run
// (a 60 KB run of odd bytes took 10 s), so that a hostile task could stall
// every Run that counts it; longer runs are counted in pieces of maxRun
// bytes, cut at rune boundaries. Text whose runs are all shorter, which is
// nearly all text, is counted exactly; a long run's count may differ from an
// exact one by about one token a piece.
const maxRun = 128

func (e *encoder) CountTokens(text string) int {
	if text == "" {
		return 0
	}
	// EncodeOrdinary treats special-token text such as "<|endoftext|>" as plain
	// text, which is what chat APIs do with message content.
	n, start, run := 0, 0, 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			run = 0
		} else if run += size; run > maxRun {
			n += len(e.tk.EncodeOrdinary(text[start:i]))
			start, run = i, size
		}
		i += size
	}
	return n + len(e.tk.EncodeOrdinary(text[start:]))
}

var (
	loaderOnce sync.Once
	encoders   = map[string]*encoder{
		EncodingO200K:  {},
		EncodingCL100K: {},
		EncodingP50K:   {},
		EncodingR50K:   {},
	}
)

// Encoding returns the shared tokenizer of a tiktoken encoding (see the Encoding*
// constants). The first call for an encoding builds it (tens of milliseconds);
// later calls return the same tokenizer.
//
// The package installs tiktoken-go's offline loader before it builds its first
// encoder, so that tiktoken-go never downloads: a program that also uses
// tiktoken-go directly gets the offline loader too.
func Encoding(name string) (Tokenizer, error) {
	e, ok := encoders[name]
	if !ok {
		return nil, fmt.Errorf("coco: unknown encoding %q", name)
	}
	e.once.Do(func() {
		loaderOnce.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
		e.tk, e.err = tiktoken.GetEncoding(name)
		if e.err != nil {
			e.err = fmt.Errorf("coco: building encoding %s: %w", name, e.err)
		}
	})
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

// EncodingForModel returns the tiktoken encoding of an OpenAI model, and false
// for models of other families. A provider prefix ("openai/", "azure/") and a
// fine-tune prefix ("ft:") are ignored.
//
// o200k_base: gpt-4o*, chatgpt-4o*, gpt-4.1*, gpt-4.5*, gpt-5*, o1*, o3*, o4*.
// cl100k_base: every other gpt-4*, gpt-3.5*, text-embedding-3*, text-embedding-ada-002.
func EncodingForModel(model string) (string, bool) {
	m := baseModelName(model)
	m = strings.TrimPrefix(m, "ft:")
	switch {
	case hasAnyPrefix(m, "gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5"),
		isOSeries(m, "o1"), isOSeries(m, "o3"), isOSeries(m, "o4"):
		return EncodingO200K, true
	case hasAnyPrefix(m, "gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada-002"):
		return EncodingCL100K, true
	}
	return "", false
}

// isOSeries reports whether m is the reasoning model family f ("o3", "o3-mini",
// "o3-2025-04-16") rather than some other name that starts with the same letters.
func isOSeries(m, f string) bool {
	return m == f || strings.HasPrefix(m, f+"-")
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// baseModelName lower-cases a model name and drops a provider prefix
// ("openai/gpt-4o" -> "gpt-4o").
func baseModelName(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	return m
}

// TokenCount is a number of tokens and whether it is an estimate.
type TokenCount struct {
	Tokens int
	// Estimated is true when the count was made with another model's
	// vocabulary (or any tokenizer not declared exact).
	Estimated bool
}

// TokenCounter counts tokens for any model: exactly, with tiktoken, for OpenAI
// models (see EncodingForModel), and with Fallback for every other family.
//
// The zero value is ready to use. A TokenCounter is safe for concurrent use and
// must not be changed after first use.
type TokenCounter struct {
	// Fallback returns the tokenizer for a model that has no OpenAI encoding
	// and whether its counts are exact (for instance a caller's own Llama or
	// Claude tokenizer). A nil Fallback, or one that returns a nil Tokenizer,
	// means the default approximation: cl100k_base, with every count marked
	// estimated. cl100k_base is within about 10-30% of Llama 3, Qwen and Claude
	// counts on English text; worse on other scripts.
	Fallback func(model string) (tok Tokenizer, exact bool)
}

// Tokenizer returns the tokenizer c uses for model and whether its counts are
// exact.
func (c *TokenCounter) Tokenizer(model string) (tok Tokenizer, exact bool, err error) {
	if enc, ok := EncodingForModel(model); ok {
		tok, err := Encoding(enc)
		return tok, true, err
	}
	if c != nil && c.Fallback != nil {
		if tok, exact := c.Fallback(model); tok != nil {
			return tok, exact, nil
		}
	}
	tok, err = Encoding(EncodingCL100K)
	return tok, false, err
}

// Count counts the tokens of text as model would see them.
func (c *TokenCounter) Count(model, text string) (TokenCount, error) {
	tok, exact, err := c.Tokenizer(model)
	if err != nil {
		return TokenCount{}, err
	}
	return TokenCount{Tokens: tok.CountTokens(text), Estimated: !exact}, nil
}

// CountChat counts the prompt tokens of a chat request as OpenAI bills them:
// for each message 3 tokens plus its encoded role, content and name, 1 more per
// name, and 3 to prime the reply (gpt-3.5-turbo-0301: 4 a message, -1 a name).
// Models of other families are counted by the same rule with their tokenizer,
// and the count is marked estimated.
func (c *TokenCounter) CountChat(model string, msgs []Message) (TokenCount, error) {
	tok, exact, err := c.Tokenizer(model)
	if err != nil {
		return TokenCount{}, err
	}
	perMessage, perName := 3, 1
	if strings.HasPrefix(baseModelName(model), "gpt-3.5-turbo-0301") {
		perMessage, perName = 4, -1
	}
	n := 3
	for _, m := range msgs {
		n += perMessage + tok.CountTokens(string(m.Role)) + tok.CountTokens(m.Content)
		if m.Name != "" {
			n += perName + tok.CountTokens(m.Name)
		}
	}
	return TokenCount{Tokens: n, Estimated: !exact}, nil
}

var defaultCounter TokenCounter

// CountTokens counts the tokens of text in model's vocabulary with the default
// TokenCounter. Use a TokenCounter to learn whether the count is exact.
func CountTokens(model, text string) (int, error) {
	n, err := defaultCounter.Count(model, text)
	return n.Tokens, err
}

// CountChatTokens counts the prompt tokens of msgs on model with the default
// TokenCounter (see TokenCounter.CountChat).
func CountChatTokens(model string, msgs []Message) (int, error) {
	n, err := defaultCounter.CountChat(model, msgs)
	return n.Tokens, err
}
