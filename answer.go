package coco

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AnswerExtractor finds the final answer in a model's text and normalises
// answers so that equal answers compare equal. Implementations must be safe for
// concurrent use.
type AnswerExtractor interface {
	// Extract returns the final answer in text, or "" if there is none.
	Extract(text string) string
	// Normalize returns the canonical form of an answer: two answers are the
	// same answer exactly when their normal forms are equal.
	Normalize(answer string) string
}

// StandardAnswers is the default AnswerExtractor. The zero value is ready to use.
//
// Extract looks, in this order, for: the text after the last "####" (GSM8K
// style, and Coco's sketch separator); the last \boxed{...}; the last line
// that starts with "A:", "Answer:", "Final answer:" (any case, markdown bold
// allowed; a bare marker takes the next line, and a bare marker at the very end
// means no answer); the last "the answer is ..."; and, failing all those, a number the
// text ends with. The last occurrence wins because models restate and
// correct themselves before they conclude.
//
// Normalize makes numbers compare numerically ("18" = "18.0" = "$18" =
// "18 dollars"; "1,000" = "1000"), writes dates as MM/DD/YYYY ("5/1/2021",
// "May 1, 2021" and "2021-05-01" all become "05/01/2021"), and lower-cases
// other text with surrounding spaces, quotes and a final period removed.
type StandardAnswers struct{}

var _ AnswerExtractor = StandardAnswers{}

var (
	reBoxed      = regexp.MustCompile(`\\boxed\s*\{`)
	reAnswerLine = regexp.MustCompile(`(?im)^[ \t>*_#-]*(?:final answer|answer|a)[*_ \t]*:[*_ \t]*(.*)$`)
	reAnswerIs   = regexp.MustCompile(`(?i)\bthe (?:final )?answer is[:\s]*([^\n]*)`)
	reNumber     = regexp.MustCompile(`-?\$?\d[\d,]*(?:\.\d+)?`)
	reSlashDate  = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})/(\d{4})\b`)
	reISODate    = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	reNamedDate  = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	reNumeric    = regexp.MustCompile(`^(-)?\$?\s*(\d[\d,]*(?:\.\d+)?|\.\d+)\s*(%|[a-z]+)?\.?$`)
)

// Extract implements AnswerExtractor.
func (StandardAnswers) Extract(text string) string {
	a, _ := locateAnswer(text)
	return a
}

// locateAnswer finds the final answer in text as StandardAnswers.Extract
// documents, and where the answer's section begins (the separator, the
// \boxed, the answer line...): the text before it is the reasoning. at is
// len(text) when there is no answer.
func locateAnswer(text string) (answer string, at int) {
	if i := strings.LastIndex(text, "####"); i >= 0 {
		if a := firstLine(text[i+4:]); a != "" {
			return a, i
		}
	}
	if a, i := lastBoxed(text); a != "" {
		return a, i
	}
	if ms := reAnswerLine.FindAllStringSubmatchIndex(text, -1); ms != nil {
		// The last answer line decides. If it is bare ("Answer:" with the
		// answer on the next line), the next non-blank line is the answer;
		// if nothing follows, the model gave no answer.
		last := ms[len(ms)-1]
		if a := strings.TrimSpace(text[last[2]:last[3]]); a != "" {
			return cleanAnswer(a), last[0]
		}
		if a := firstLine(text[last[1]:]); a != "" {
			return a, last[0]
		}
		return "", len(text)
	}
	if ms := reAnswerIs.FindAllStringSubmatchIndex(text, -1); ms != nil {
		last := ms[len(ms)-1]
		if a := strings.TrimSpace(text[last[2]:last[3]]); a != "" {
			return cleanAnswer(a), last[0]
		}
	}
	if n, i := trailingNumber(text); n != "" {
		return n, i
	}
	return "", len(text)
}

// trailingNumber returns the number the text ends with ("... so she pays
// $18.50." ends with $18.50) and where it starts, or "".
func trailingNumber(text string) (string, int) {
	t := strings.TrimRight(text, " \t\r\n.!*_")
	ms := reNumber.FindAllStringIndex(t, -1)
	if ms == nil || ms[len(ms)-1][1] != len(t) {
		return "", len(text)
	}
	last := ms[len(ms)-1]
	return t[last[0]:last[1]], last[0]
}

// firstLine returns the first non-blank line of s, trimmed.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" {
			return cleanAnswer(l)
		}
	}
	return ""
}

// cleanAnswer strips markdown emphasis and a trailing period around an answer.
func cleanAnswer(a string) string {
	a = strings.TrimSpace(strings.Trim(a, "*_` \t"))
	return strings.TrimSuffix(a, ".")
}

// lastBoxed returns the content of the last \boxed{...}, braces balanced, and
// where the \boxed starts.
func lastBoxed(text string) (string, int) {
	locs := reBoxed.FindAllStringIndex(text, -1)
	for i := len(locs) - 1; i >= 0; i-- {
		start := locs[i][1]
		depth := 1
	scan:
		for j := start; j < len(text); j++ {
			switch text[j] {
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					if a := strings.TrimSpace(text[start:j]); a != "" {
						return a, locs[i][0]
					}
					break scan
				}
			}
		}
	}
	return "", len(text)
}

var monthNumber = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7,
	"aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}

// Normalize implements AnswerExtractor.
func (StandardAnswers) Normalize(answer string) string {
	a := answer
	for { // trim until nothing changes, so that Normalize is idempotent
		b := strings.Join(strings.Fields(strings.TrimRight(strings.Trim(a, "\"'`*_ \t\r\n"), ".")), " ")
		if b == a {
			break
		}
		a = b
	}
	if a == "" {
		return ""
	}
	if d, ok := normalDate(a); ok {
		return d
	}
	if n, ok := normalNumber(a); ok {
		return n
	}
	return strings.ToLower(a)
}

// normalDate finds one date in a and writes it as MM/DD/YYYY. Text with a date
// and little else ("A: 05/01/2021 (Saturday)") is that date.
func normalDate(a string) (string, bool) {
	var y, m, d int
	if s := reSlashDate.FindStringSubmatch(a); s != nil {
		m, d, y = atoi(s[1]), atoi(s[2]), atoi(s[3])
	} else if s := reISODate.FindStringSubmatch(a); s != nil {
		y, m, d = atoi(s[1]), atoi(s[2]), atoi(s[3])
	} else if s := reNamedDate.FindStringSubmatch(a); s != nil {
		m, d, y = monthNumber[strings.ToLower(s[1])], atoi(s[2]), atoi(s[3])
	} else {
		return "", false
	}
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // February 30th and the like: keep the text as written
		return "", false
	}
	return t.Format("01/02/2006"), true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// normalNumber writes a lone number (with an optional currency sign, thousands
// separators, a unit word or %) in its shortest decimal form: "18.50" -> "18.5".
func normalNumber(a string) (string, bool) {
	s := reNumeric.FindStringSubmatch(strings.ToLower(a))
	if s == nil {
		return "", false
	}
	digits := strings.ReplaceAll(s[2], ",", "")
	f, err := strconv.ParseFloat(digits, 64)
	if err != nil {
		return "", false
	}
	if s[1] == "-" && f != 0 {
		f = -f
	}
	return strconv.FormatFloat(f, 'f', -1, 64) + percent(s[3]), true
}

func percent(unit string) string {
	if unit == "%" {
		return "%"
	}
	return ""
}
