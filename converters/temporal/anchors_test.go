package temporal

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAnchorsDocumented checks that every docs/unsupported.md#anchor a rule
// can print has a section in docs/unsupported.md.
func TestAnchorsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/unsupported.md")
	require.NoError(t, err)
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## ([a-z0-9-]+)\s*$`).FindAllSubmatch(doc, -1) {
		headings[string(m[1])] = true
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	// Anchors appear as the first argument of p.todo, in "anchor: message"
	// refusals, and in structMap{anchor: ...}.
	pats := []*regexp.Regexp{
		regexp.MustCompile(`p\.todo\([^,]+, "([a-z0-9-]+)"`),
		regexp.MustCompile(`return (?:c, 0, )?"([a-z0-9-]+): `),
		regexp.MustCompile(`anchor: "([a-z0-9-]+)"`),
		regexp.MustCompile(`return "([a-z0-9-]+)", "`),
	}
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, re := range pats {
			for _, m := range re.FindAllSubmatch(src, -1) {
				seen++
				require.True(t, headings[string(m[1])], "%s uses anchor %q, which docs/unsupported.md lacks", f, m[1])
			}
		}
	}
	require.Greater(t, seen, 10)
}
