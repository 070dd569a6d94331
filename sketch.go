package coco

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrNoAnswer means a model's text holds no final answer that a parser could
// find.
var ErrNoAnswer = errors.New("coco: no final answer in the text")

// SketchPrompter builds the request the LLM receives for a task the router sent
// to it, and parses what the LLM wrote. Implementations must be safe for
// concurrent use.
type SketchPrompter interface {
	// Prompt builds the LLM request from the (compressed) task text and the
	// SLM's attempt, which is nil when the SLM failed.
	Prompt(task string, draft *Attempt) Request
	// Parse splits the LLM's text into reasoning steps and the final answer,
	// or returns an error wrapping ErrNoAnswer.
	Parse(text string) (*Sketch, error)
}

// Sketch is a model's reasoning split into steps, and its final answer as
// written (not normalised).
type Sketch struct {
	Steps  []string
	Answer string
	// Separated is true when the answer followed the separator "####" as
	// asked; false when the parser fell back to an answer line or a number.
	Separated bool
}

// SketchExample is a worked example for a few-shot sketch prompt.
type SketchExample struct {
	Question string
	Steps    []string
	Answer   string
}

// SketchPrompt is the default SketchPrompter: it asks the LLM for a reasoning
// sketch (a few words a step, a few steps, as in Chain of Draft) and the final
// answer after a line "####", and caps the output accordingly, so that the LLM
// writes a fraction of the tokens of a full chain of thought. The zero value is
// ready to use.
//
// The output cap is MaxSteps x (WordsPerStep x 4 + 4) tokens for the sketch
// plus 48 for the separator and the answer: 4 tokens a word leaves room for
// numbers and formulas, which cost more tokens than words. A model that runs
// past it is cut off, and Coco then keeps the SLM's answer or the text's last
// answer line, marked degraded.
type SketchPrompt struct {
	WordsPerStep int // words a step at most; 0 means 5
	MaxSteps     int // steps at most; 0 means 8
	// Examples are shown to the model as previous turns (few-shot); nil means
	// DefaultSketchExamples, an empty non-nil slice none. Chain of Draft
	// loses accuracy without examples.
	Examples []SketchExample
	// ShowDraft adds the SLM's majority answer to the prompt as a draft to
	// check. Off by default: an LLM tends to adopt a draft it is shown.
	ShowDraft bool
}

var _ SketchPrompter = SketchPrompt{}

// DefaultSketchExamples are the few-shot examples of SketchPrompt: one short
// word problem, not taken from an evaluation set. One example keeps the model
// to the format (steps, "####", answer) for about 40 input tokens a call; every
// further example costs as much again on every call.
var DefaultSketchExamples = []SketchExample{
	{
		Question: "A baker makes 14 trays of 12 rolls and sells all but 20. How many rolls does she sell?",
		Steps:    []string{"14 x 12 = 168 rolls", "168 - 20 = 148"},
		Answer:   "148",
	},
}

func (p SketchPrompt) limits() (words, steps int) {
	words, steps = p.WordsPerStep, p.MaxSteps
	if words <= 0 {
		words = 5
	}
	if steps <= 0 {
		steps = 8
	}
	return words, steps
}

// MaxTokens returns the output cap of the prompts p builds.
func (p SketchPrompt) MaxTokens() int {
	words, steps := p.limits()
	return steps*(words*4+4) + 48
}

// Prompt implements SketchPrompter.
func (p SketchPrompt) Prompt(task string, draft *Attempt) Request {
	words, steps := p.limits()
	system := fmt.Sprintf("Think step by step, but write down only a minimal draft of each step: "+
		"at most %d words a step and at most %d steps, one step a line. "+
		"Then write a line with only #### and, on the next line, the final answer alone.", words, steps)
	msgs := []Message{{Role: RoleSystem, Content: system}}
	examples := p.Examples
	if examples == nil {
		examples = DefaultSketchExamples
	}
	for _, ex := range examples {
		msgs = append(msgs,
			Message{Role: RoleUser, Content: ex.Question},
			Message{Role: RoleAssistant, Content: strings.Join(ex.Steps, "\n") + "\n####\n" + ex.Answer})
	}
	content := task
	if p.ShowDraft && draft != nil {
		if ans, n := draft.Majority(); n > 0 {
			content += fmt.Sprintf("\n\n(A smaller model answered %q; it may be wrong.)", ans)
		}
	}
	msgs = append(msgs, Message{Role: RoleUser, Content: content})
	return Request{Messages: msgs, MaxTokens: p.MaxTokens()}
}

// Parse implements SketchPrompter (see ParseSketch).
func (SketchPrompt) Parse(text string) (*Sketch, error) { return ParseSketch(text) }

// FullPrompter asks the LLM for a full chain of thought and the answer after
// "####": the alternative to SketchPrompt when output tokens matter less than
// a complete rationale.
type FullPrompter struct {
	MaxTokens int // 0 means 1024
}

var _ SketchPrompter = FullPrompter{}

// Prompt implements SketchPrompter.
func (p FullPrompter) Prompt(task string, _ *Attempt) Request {
	n := p.MaxTokens
	if n <= 0 {
		n = 1024
	}
	return Request{Messages: []Message{
		{Role: RoleSystem, Content: "Reason step by step in full sentences. Then write a line with only #### and, on the next line, the final answer alone."},
		{Role: RoleUser, Content: task},
	}, MaxTokens: n}
}

// Parse implements SketchPrompter (see ParseSketch).
func (FullPrompter) Parse(text string) (*Sketch, error) { return ParseSketch(text) }

// answerInstruction is the system prompt of the SLM's requests: it asks for
// the final answer in the form StandardAnswers finds.
const answerInstruction = "Solve the task. Reason step by step, briefly, then write the final answer alone on the last line as \"A: <answer>\"."

func directMessages(task string) []Message {
	return []Message{{Role: RoleSystem, Content: answerInstruction}, {Role: RoleUser, Content: task}}
}

var (
	reStepMarker = regexp.MustCompile(`^(?i)(?:[-*•+>]+\s+|\d{1,3}[.)]\s+|step\s*\d{1,3}\s*[:.)-]\s*|#+\s*|explain:\s*|explanation:\s*|reasoning:\s*)`)
	reFence      = regexp.MustCompile("^\\s*(```|~~~)")
)

// ParseSketch splits a model's text into reasoning steps and its final answer.
// The answer is found as StandardAnswers.Extract finds it: after the last
// "####" (the separator sketch prompts ask for), in a \boxed{}, on the last
// "A:"/"Answer:" line, after "the answer is", or as a number the text ends
// with. Everything after the answer (chatter, an invented next question) is
// ignored. The reasoning before it becomes steps: one a line, with list
// markers ("-", "1.", "Step 2:"), markdown headers and emphasis, "Explain:"
// and code fences removed; prose lines are split into sentences, lines of
// code are kept whole (a comment loses its "#"). A text with no answer is an
// error wrapping ErrNoAnswer.
func ParseSketch(text string) (*Sketch, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%w: the text is empty", ErrNoAnswer)
	}
	answer, at := locateAnswer(text)
	if answer == "" {
		return nil, fmt.Errorf("%w (%d bytes of text, no separator, answer line or final number)", ErrNoAnswer, len(text))
	}
	sep := strings.LastIndex(text, "####")
	s := &Sketch{Answer: answer, Separated: sep >= 0 && sep == at}
	inCode := false
	for _, line := range strings.Split(text[:at], "\n") {
		if reFence.MatchString(line) {
			inCode = !inCode
			continue
		}
		l := strings.TrimSpace(line)
		if inCode {
			l = strings.TrimSpace(strings.TrimPrefix(l, "#"))
			if l != "" {
				s.Steps = append(s.Steps, l)
			}
			continue
		}
		for {
			m := reStepMarker.FindString(l)
			if m == "" {
				break
			}
			l = strings.TrimSpace(l[len(m):])
		}
		l = strings.TrimSpace(strings.NewReplacer("**", "", "__", "").Replace(l))
		if l == "" {
			continue
		}
		if looksLikeCode(l) {
			s.Steps = append(s.Steps, l)
			continue
		}
		s.Steps = append(s.Steps, sentences(l)...)
	}
	return s, nil
}

// looksLikeCode reports whether a line reads as a statement of a program (an
// assignment or a call) rather than prose.
func looksLikeCode(l string) bool {
	if strings.HasPrefix(l, "import ") || strings.HasPrefix(l, "from ") || strings.HasPrefix(l, "def ") || strings.HasPrefix(l, "return ") {
		return true
	}
	eq := strings.Index(l, " = ")
	return eq > 0 && !strings.ContainsRune(l[:eq], ' ') && strings.IndexFunc(l[:eq], func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '.' && r != '[' && r != ']'
	}) < 0
}

// sentences splits prose at sentence ends: a '.', '!' or '?' followed by a
// space and a capital letter or digit. Decimal points and "e.g." stay inside
// their sentence.
func sentences(l string) []string {
	var out []string
	start := 0
	for i := 0; i < len(l); {
		r, size := utf8.DecodeRuneInString(l[i:])
		next := i + size
		if (r == '.' || r == '!' || r == '?') && next+1 < len(l) && l[next] == ' ' && !abbreviation(l[start:next]) {
			if after, _ := utf8.DecodeRuneInString(l[next+1:]); unicode.IsUpper(after) || unicode.IsDigit(after) {
				if s := strings.TrimSpace(l[start:next]); s != "" {
					out = append(out, s)
				}
				start = next
			}
		}
		i = next
	}
	if s := strings.TrimSpace(l[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// abbreviation reports whether s ends in an abbreviation whose period does not
// end a sentence.
func abbreviation(s string) bool {
	for _, a := range []string{"e.g.", "i.e.", "Mr.", "Mrs.", "Dr.", "St.", "vs.", "etc.", "No."} {
		if strings.HasSuffix(s, a) {
			return true
		}
	}
	return false
}
