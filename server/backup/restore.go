package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Opener opens a restored store file read-only enough to count it, and closes it.
type Opener func(path string) (counter Counter, close func() error, err error)

// Counter counts resources per type in a store.
type Counter func(typ string) (int, error)

// Extract unpacks a backup archive into dir (which must hold no store files yet),
// checking each file's size and SHA-256 against the manifest. It returns the
// manifest; on any error it removes what it wrote.
func Extract(r io.Reader, dir string) (*Manifest, error) {
	tr := tar.NewReader(r)
	type got struct {
		size int64
		sum  string
	}
	files := map[string]got{}
	var m *Manifest
	var written []string
	fail := func(err error) (*Manifest, error) {
		for _, p := range written {
			os.Remove(p)
		}
		return nil, err
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("not a gateway backup (tar): %w", err))
		}
		name := hdr.Name
		if name != filepath.Base(name) || strings.HasPrefix(name, ".") || hdr.Typeflag != tar.TypeReg {
			return fail(fmt.Errorf("backup entry %q is not a plain file name: refused", name))
		}
		if name == ManifestName {
			b, err := io.ReadAll(io.LimitReader(tr, 1<<20))
			if err != nil {
				return fail(err)
			}
			m = &Manifest{}
			if err := json.Unmarshal(b, m); err != nil {
				return fail(fmt.Errorf("backup manifest: %w", err))
			}
			continue
		}
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return fail(fmt.Errorf("%s exists: restore into an empty data directory (or move it away first)", path))
		}
		out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fail(err)
		}
		written = append(written, path)
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(out, h), tr)
		if err == nil {
			err = out.Sync()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fail(err)
		}
		files[name] = got{n, hex.EncodeToString(h.Sum(nil))}
	}
	if m == nil {
		return fail(errors.New("the backup has no manifest: it was cut short"))
	}
	for _, f := range m.Files {
		g, ok := files[f.Name]
		if !ok {
			return fail(fmt.Errorf("the backup lacks %s, which its manifest lists", f.Name))
		}
		if g.size != f.Size || g.sum != f.SHA256 {
			return fail(fmt.Errorf("%s: %d bytes, SHA-256 %s; the manifest says %d bytes, %s: the backup is damaged", f.Name, g.size, g.sum, f.Size, f.SHA256))
		}
	}
	return m, nil
}

// Verify opens each restored file with open and checks that it holds, type by type,
// the counts of the manifest.
func Verify(m *Manifest, dir string, open func(name string) Opener) error {
	for _, f := range m.Files {
		opener := open(f.Name)
		if opener == nil {
			return fmt.Errorf("no way to open %s", f.Name)
		}
		count, closeFn, err := opener(filepath.Join(dir, f.Name))
		if err != nil {
			return fmt.Errorf("the restored %s does not open: %w", f.Name, err)
		}
		for typ, want := range f.Counts {
			n, err := count(typ)
			if err == nil && n != want {
				err = fmt.Errorf("%d %s resources, the manifest says %d", n, typ, want)
			}
			if err != nil {
				closeFn()
				return fmt.Errorf("the restored %s: %w", f.Name, err)
			}
		}
		if err := closeFn(); err != nil {
			return err
		}
	}
	return nil
}
