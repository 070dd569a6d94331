package coco_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/coco-llm/coco"
)

func TestStandardAnswersExtract(t *testing.T) {
	t.Parallel()
	var x coco.StandardAnswers
	for _, tc := range []struct{ name, text, want string }{
		{"A line", "Explain: today is May 1.\nA: 05/01/2021", "05/01/2021"},
		{"last A line wins", "A: 05/01/2021\n\n●Question 05:\nQ: ...\nA: 12/31/1899", "12/31/1899"},
		{"Answer line", "Some steps.\nAnswer: 42", "42"},
		{"markdown bold", "Steps.\n**Final answer:** 17.", "17"},
		{"bare marker takes next line", "Steps.\n**Answer:**\n\n$18", "$18"},
		{"bare marker at the end is no answer", "# The answer is 4/30/2020\nans = x\nA: ", ""},
		{"gsm8k separator", "3 + 4 = 7\n#### 7", "7"},
		{"separator wins over A lines", "A: 3\n####\n 5 ", "5"},
		{"boxed", "so $x = \\boxed{\\frac{1}{2}}$ and more", "\\frac{1}{2}"},
		{"last boxed", "\\boxed{1} then \\boxed{2}", "2"},
		{"answer is", "Thus the answer is 12 apples.", "12 apples"},
		{"trailing number", "She pays 3 x 6 = $18.", "$18"},
		{"no trailing number", "date(2021, 4, 30)", ""},
		{"nothing", "I cannot tell.", ""},
		{"empty", "", ""},
		{"unbalanced boxed", "\\boxed{1 and", ""},
	} {
		assert.Equal(t, tc.want, x.Extract(tc.text), tc.name)
	}
}

func TestStandardAnswersNormalize(t *testing.T) {
	t.Parallel()
	var x coco.StandardAnswers
	same := [][]string{
		{"18", "18.0", "$18", "18 dollars", "18.", " 18 ", "$18.00"},
		{"1000", "1,000", "1000.0"},
		{"-3", "-3.0"},
		{"2.5", "2.50"},
		{"50%", "50 %", "50.0%"},
		{"05/01/2021", "5/1/2021", "May 1, 2021", "may 1st, 2021", "2021-05-01", "05/01/2021 (Saturday)", "Sat, May 1 2021"},
		{"paris", "Paris", "  PARIS. ", "\"Paris\""},
		{"new york", "New   York"},
	}
	for _, group := range same {
		want := x.Normalize(group[0])
		for _, a := range group[1:] {
			assert.Equal(t, want, x.Normalize(a), "%q vs %q", group[0], a)
		}
	}
	assert.Equal(t, "18", x.Normalize("$18"))
	assert.Equal(t, "05/01/2021", x.Normalize("May 1, 2021"))
	assert.NotEqual(t, x.Normalize("18"), x.Normalize("19"))
	assert.NotEqual(t, x.Normalize("05/01/2021"), x.Normalize("05/01/2020"))
	assert.Equal(t, "02/30/2021", x.Normalize("02/30/2021"), "an impossible date stays as written")
	assert.Equal(t, "", x.Normalize("  "))
}

func FuzzStandardAnswers(f *testing.F) {
	for _, s := range []string{"A: 05/01/2021", "#### 7", "\\boxed{{x}}", "the answer is $1,000.50", "Answer:\n", "May 31st, 2021", "١٢٣", "A: 答案是 42 🎉"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var x coco.StandardAnswers
		a := x.Extract(text)
		n := x.Normalize(a)
		if utf8.ValidString(text) && (!utf8.ValidString(a) || !utf8.ValidString(n)) {
			t.Fatalf("valid input %q gave invalid UTF-8 %q / %q", text, a, n)
		}
		if x.Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent: %q -> %q -> %q", a, n, x.Normalize(n))
		}
		if !strings.Contains(text, strings.TrimSpace(strings.Trim(a, "*_`"))) && a != "" {
			t.Fatalf("extracted %q, which is not in the text", a)
		}
	})
}
