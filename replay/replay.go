// Package replay serves recorded model outputs as coco Models, so that a
// pipeline can be evaluated offline on real outputs.
//
// A trace is JSON Lines, one task a line:
//
//	{"id": "date-0000", "dataset": "date", "question": "...", "gold": "05/01/2021",
//	 "slm": {"model": "llama-2-13b", "samples": [{"style": "cot", "text": "...", "answer": "05/01/2021"}, ...]},
//	 "llm": {"model": "gpt-4-0613", "samples": [{"style": "cot", "text": "...", "answer": "05/01/2021"}]}}
//
// style is "cot" (reasoning in prose) or "pot" (a program, whose answer is what
// the recorded run of the program returned).
package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/coco-llm/coco"
)

// ErrUnknownTask means no recorded task's question appears in the prompt.
var ErrUnknownTask = errors.New("replay: no recorded task matches the prompt")

// Sample is one recorded output.
type Sample struct {
	Style  string `json:"style"`
	Text   string `json:"text"`
	Answer string `json:"answer"`
}

// Side is one model's recorded outputs for a task.
type Side struct {
	Model   string   `json:"model"`
	Samples []Sample `json:"samples"`
}

// Task is one recorded task.
type Task struct {
	ID       string `json:"id"`
	Dataset  string `json:"dataset"`
	Question string `json:"question"`
	Gold     string `json:"gold"`
	SLM      Side   `json:"slm"`
	LLM      Side   `json:"llm"`
}

// Trace is a set of recorded tasks. It is safe for concurrent use once read.
type Trace struct {
	Tasks      []Task
	byQuestion map[string]int
}

// maxLine bounds one line of a trace (one task with all its samples).
const maxLine = 64 << 20

// Load reads the trace at path.
func Load(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	return Read(f)
}

// Read reads a trace. A malformed line is an error that names the line; blank
// lines are skipped. Every task needs a question, at least one SLM sample and at
// least one LLM sample, and questions must be unique.
func Read(r io.Reader) (*Trace, error) {
	t := &Trace{byQuestion: map[string]int{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var task Task
		if err := json.Unmarshal(b, &task); err != nil {
			return nil, fmt.Errorf("replay: line %d: %w", line, err)
		}
		if err := task.check(); err != nil {
			return nil, fmt.Errorf("replay: line %d (%s): %w", line, task.ID, err)
		}
		if prev, dup := t.byQuestion[task.Question]; dup {
			return nil, fmt.Errorf("replay: line %d (%s): same question as task %s", line, task.ID, t.Tasks[prev].ID)
		}
		t.byQuestion[task.Question] = len(t.Tasks)
		t.Tasks = append(t.Tasks, task)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("replay: after line %d: %w", line, err)
	}
	if len(t.Tasks) == 0 {
		return nil, errors.New("replay: the trace holds no task")
	}
	return t, nil
}

func (t *Task) check() error {
	switch {
	case strings.TrimSpace(t.Question) == "":
		return errors.New("no question")
	case t.SLM.Model == "" || t.LLM.Model == "":
		return errors.New("a side has no model name")
	case len(t.SLM.Samples) == 0:
		return errors.New("no SLM sample")
	case len(t.LLM.Samples) == 0:
		return errors.New("no LLM sample")
	}
	for _, s := range append(append([]Sample(nil), t.SLM.Samples...), t.LLM.Samples...) {
		if s.Style != "cot" && s.Style != "pot" && s.Style != "" {
			return fmt.Errorf("unknown sample style %q", s.Style)
		}
	}
	return nil
}

// Find returns the task whose question appears in prompt: the task whose
// question is the prompt, or else the one with the longest question contained
// in it.
func (t *Trace) Find(prompt string) (*Task, error) {
	if i, ok := t.byQuestion[strings.TrimSpace(prompt)]; ok {
		return &t.Tasks[i], nil
	}
	best := -1
	for i := range t.Tasks {
		q := t.Tasks[i].Question
		if strings.Contains(prompt, q) && (best < 0 || len(q) > len(t.Tasks[best].Question)) {
			best = i
		}
	}
	if best < 0 {
		return nil, ErrUnknownTask
	}
	return &t.Tasks[best], nil
}

// SLM returns a Model that replays the small model's recorded samples. Its
// name is the model name of the first task's SLM side.
func (t *Trace) SLM() *Model { return &Model{trace: t, name: t.Tasks[0].SLM.Model, llm: false} }

// LLM returns a Model that replays the large model's recorded samples.
func (t *Trace) LLM() *Model { return &Model{trace: t, name: t.Tasks[0].LLM.Model, llm: true} }

// Model replays one side of a trace. For a request, it finds the task whose
// question appears in the last user message (see Trace.Find) and returns the
// first k recorded samples in file order (all of them if fewer are recorded).
// Program-of-thought samples get their recorded result appended as a final
// line "A: <answer>", as a wrapper that runs the program would return it (see
// SampleText).
//
// Usage is counted as a provider would report it: the real prompt's tokens,
// once, and the returned texts' tokens, in the model's tokenizer (marked
// estimated when that tokenizer is an approximation; see coco.TokenCounter).
type Model struct {
	trace   *Trace
	name    string
	llm     bool
	Counter *coco.TokenCounter // nil: the zero TokenCounter
}

var (
	_ coco.Model = (*Model)(nil)
	_ coco.Namer = (*Model)(nil)
)

// Name implements coco.Namer.
func (m *Model) Name() string { return m.name }

// Generate implements coco.Model.
func (m *Model) Generate(ctx context.Context, req coco.Request) (*coco.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prompt := ""
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == coco.RoleUser {
			prompt = req.Messages[i].Content
			break
		}
	}
	task, err := m.trace.Find(prompt)
	if err != nil {
		return nil, err
	}
	side := task.SLM
	if m.llm {
		side = task.LLM
	}
	k := min(req.SampleCount(), len(side.Samples))
	resp := &coco.Response{Model: m.name, Samples: make([]coco.Sample, k)}
	in, err := m.Counter.CountChat(m.name, req.Messages)
	if err != nil {
		return nil, err
	}
	resp.Usage = coco.Usage{InputTokens: in.Tokens, Estimated: in.Estimated}
	for i := range k {
		text := SampleText(side.Samples[i])
		resp.Samples[i] = coco.Sample{Text: text, FinishReason: "stop"}
		out, err := m.Counter.Count(m.name, text)
		if err != nil {
			return nil, err
		}
		resp.Usage.OutputTokens += out.Tokens
		resp.Usage.Estimated = resp.Usage.Estimated || out.Estimated
	}
	return resp, nil
}

// SampleText returns the text a replay Model returns for s: the recorded text,
// and for a program-of-thought sample a last line "A: result" with the
// program's recorded result, a bare "A:" when the program gave none (so that
// nothing in the program's comments is taken for its answer).
func SampleText(s Sample) string {
	if s.Style == "pot" {
		return strings.TrimRight(s.Text, "\n") + "\nA: " + s.Answer
	}
	return s.Text
}
