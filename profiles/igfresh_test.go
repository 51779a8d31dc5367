package profiles

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGuideIsItsGeneratorsOutput regenerates the guide from igsrc (the clinical
// tables, each row with its seed section) into a temporary directory and requires
// the committed package/ to be exactly that output: a table edited without running
// gen.py, or a JSON file edited by hand, fails here.
func TestGuideIsItsGeneratorsOutput(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to regenerate the guide from igsrc: %v", err)
	}
	out := t.TempDir()
	cmd := exec.Command(py, "gen.py")
	cmd.Dir = "igsrc"
	cmd.Env = append(os.Environ(), "AITGW_IG_OUT="+out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.py: %v\n%s", err, msg)
	}
	want := map[string][]byte{}
	if err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		want[rel], err = os.ReadFile(p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) < 50 {
		t.Fatalf("gen.py wrote only %d files", len(want))
	}
	seen := 0
	if err := filepath.WalkDir("package", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("package", p)
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, ok := want[rel]
		switch {
		case !ok:
			t.Errorf("package/%s is not written by gen.py", rel)
		case !bytes.Equal(got, w):
			t.Errorf("package/%s differs from gen.py's output: run `python3 gen.py` in profiles/igsrc and commit", rel)
		}
		seen++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("gen.py writes %d files, package/ holds %d", len(want), seen)
	}
}
