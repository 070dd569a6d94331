package coco

// SketchPrompter builds the request the LLM receives for a task that the router
// sent to it, from the (compressed) task text and the SLM's attempt, which may
// be nil when the SLM failed. Implementations must be safe for concurrent use.
type SketchPrompter interface {
	Prompt(task string, draft *Attempt) Request
}

// DirectPrompter asks the LLM the task as it is, with the same instruction the
// SLM gets: reason step by step and end with the answer on a line "A: ...".
// It is the default until sketch prompting lands.
type DirectPrompter struct {
	// MaxTokens caps the LLM's output; 0 means 1024.
	MaxTokens int
}

var _ SketchPrompter = DirectPrompter{}

// Prompt implements SketchPrompter.
func (p DirectPrompter) Prompt(task string, _ *Attempt) Request {
	n := p.MaxTokens
	if n <= 0 {
		n = 1024
	}
	return Request{Messages: directMessages(task), MaxTokens: n}
}

// answerInstruction is the system prompt of direct requests: it asks for the
// final answer in the form StandardAnswers finds first.
const answerInstruction = "Solve the task. Reason step by step, briefly, then write the final answer alone on the last line as \"A: <answer>\"."

func directMessages(task string) []Message {
	return []Message{{Role: RoleSystem, Content: answerInstruction}, {Role: RoleUser, Content: task}}
}
