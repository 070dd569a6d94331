// Package cocotest provides test doubles for code that uses coco, as
// net/http/httptest does for net/http: scripted models that answer, report
// usage and logprobs, stall or fail on cue, and record what they were asked.
// They never touch the network and are safe for concurrent use.
package cocotest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coco-llm/coco"
)

// Reply is what a scripted Model returns for one call.
type Reply struct {
	// Texts holds one text per sample. A call that asks for k samples gets
	// the first k; if there are fewer, it gets them all (as a provider that
	// ignores n would answer).
	Texts []string
	// Logprobs, if set, holds the token logprobs of each text (Logprobs[i]
	// for Texts[i]); they are returned only when the request asks for them.
	Logprobs [][]coco.TokenLogprob
	// Usage is the usage reported; the zero value reports none, and a
	// coco.Meter then counts the tokens itself.
	Usage coco.Usage
	// Err, if set, is returned instead of an answer (with Usage, if any, as a
	// billed failure).
	Err error
	// Delay stalls the call; it ends early with the context's error if the
	// context ends first.
	Delay time.Duration
}

// Answers returns a Reply whose samples are texts.
func Answers(texts ...string) Reply { return Reply{Texts: texts} }

// Fail returns a Reply that fails with err.
func Fail(err error) Reply { return Reply{Err: err} }

// Model is a scripted coco.Model. It answers a call with, in order of
// precedence: the next reply queued with Then; the reply of the first rule
// added with On whose text appears in the request's last user message; the
// reply set with Default. A call none of these covers fails with an error
// that says so. Configure it before use; it is then safe for concurrent use.
type Model struct {
	name string

	mu       sync.Mutex
	queue    []Reply
	rules    []rule
	fallback *Reply
	requests []coco.Request
}

type rule struct {
	substr string
	reply  Reply
}

var (
	_ coco.Model = (*Model)(nil)
	_ coco.Namer = (*Model)(nil)
)

// NewModel returns a scripted model named name (the price-table key).
func NewModel(name string) *Model { return &Model{name: name} }

// Name implements coco.Namer.
func (m *Model) Name() string { return m.name }

// Then queues replies for the next calls, one a call, before any rule applies.
func (m *Model) Then(replies ...Reply) *Model {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue = append(m.queue, replies...)
	return m
}

// On answers r to every call whose last user message contains substr.
func (m *Model) On(substr string, r Reply) *Model {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rules = append(m.rules, rule{substr, r})
	return m
}

// Default answers r to every call that no queued reply or rule covers.
func (m *Model) Default(r Reply) *Model {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fallback = &r
	return m
}

// Requests returns a copy of the requests the model has seen, in order.
func (m *Model) Requests() []coco.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]coco.Request(nil), m.requests...)
}

// Calls returns the number of calls the model has seen.
func (m *Model) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests)
}

// Generate implements coco.Model.
func (m *Model) Generate(ctx context.Context, req coco.Request) (*coco.Response, error) {
	r, err := m.next(req)
	if err != nil {
		return nil, err
	}
	if r.Delay > 0 {
		t := time.NewTimer(r.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.Err != nil {
		if r.Usage.Total() > 0 {
			return &coco.Response{Model: m.name, Usage: r.Usage}, r.Err
		}
		return nil, r.Err
	}
	n := min(req.SampleCount(), len(r.Texts))
	resp := &coco.Response{Model: m.name, Samples: make([]coco.Sample, n), Usage: r.Usage}
	for i := range n {
		resp.Samples[i] = coco.Sample{Text: r.Texts[i], FinishReason: "stop"}
		if req.Logprobs && i < len(r.Logprobs) {
			resp.Samples[i].Logprobs = r.Logprobs[i]
		}
	}
	return resp, nil
}

func (m *Model) next(req coco.Request) (Reply, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, req)
	if len(m.queue) > 0 {
		r := m.queue[0]
		m.queue = m.queue[1:]
		return r, nil
	}
	prompt := lastUser(req.Messages)
	for _, ru := range m.rules {
		if strings.Contains(prompt, ru.substr) {
			return ru.reply, nil
		}
	}
	if m.fallback != nil {
		return *m.fallback, nil
	}
	return Reply{}, fmt.Errorf("cocotest: model %s has no reply for call %d", m.name, len(m.requests))
}

func lastUser(msgs []coco.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == coco.RoleUser {
			return msgs[i].Content
		}
	}
	return ""
}

// TokenLogprobs splits text into word-sized tokens (each word with the spaces
// before it, and each punctuation mark on its own) that spell text exactly,
// and gives each the log probability logprob: enough for testing estimators
// that read logprobs.
func TokenLogprobs(text string, logprob float64) []coco.TokenLogprob {
	var out []coco.TokenLogprob
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		next := i + size
		boundary := next == len(text)
		if !boundary {
			after, _ := utf8.DecodeRuneInString(text[next:])
			boundary = unicode.IsPunct(r) || unicode.IsPunct(after) || (!unicode.IsSpace(r) && unicode.IsSpace(after))
		}
		if boundary {
			out = append(out, coco.TokenLogprob{Token: text[start:next], Logprob: logprob})
			start = next
		}
		i = next
	}
	return out
}
