package harness

import (
	"os"
	"path/filepath"
	"testing"
)

// Doc is one Markdown document of the repository.
type Doc struct {
	Path string // relative to the repository root
	Text string
}

// Docs returns README.md and the guides docs/*.md, whose configuration
// snippets the tests check.
func Docs(t testing.TB) []Doc {
	t.Helper()
	root := RepoRoot(t)
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []Doc
	for _, path := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, path)
		docs = append(docs, Doc{Path: rel, Text: string(b)})
	}
	return docs
}
