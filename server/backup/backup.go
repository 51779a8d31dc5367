// Package backup takes a consistent copy of the gateway's stores while it serves,
// and restores one. A backup is a tar archive: one file per store (the main store
// and the audit trail), each copied from one read snapshot, then a manifest giving
// each file's size, SHA-256 and the count of resources per type in that snapshot, so
// that a restore can check the copy opens and holds what was copied.
package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Snapshotter is a store that can stream a copy of itself from one read snapshot
// (fhir/bolt and fhir/appendonly).
type Snapshotter interface {
	BackupTo(start func(size int64, snap fhir.Tx) (io.Writer, error)) error
}

// Source is one store file of the backup.
type Source struct {
	// Name is the file's name in the data directory ("aitgw.db").
	Name  string
	Store Snapshotter
	// Types are the resource types counted in the manifest.
	Types []string
}

// Manifest describes a backup.
type Manifest struct {
	Created time.Time `json:"created"`
	Version string    `json:"version"`
	Files   []File    `json:"files"`
}

// File is one store file of a backup.
type File struct {
	Name   string         `json:"name"`
	Size   int64          `json:"size"`
	SHA256 string         `json:"sha256"`
	Counts map[string]int `json:"counts"`
}

// ManifestName is the manifest's name in the archive; it comes last.
const ManifestName = "backup.json"

// Write streams the backup of sources to w as a tar archive. Each store is read from
// one snapshot, so writers are held up by nothing but bbolt's own short locks.
func Write(w io.Writer, version string, now time.Time, sources []Source) (*Manifest, error) {
	tw := tar.NewWriter(w)
	m := &Manifest{Created: now.UTC(), Version: version}
	for _, src := range sources {
		f := File{Name: src.Name, Counts: map[string]int{}}
		h := sha256.New()
		err := src.Store.BackupTo(func(size int64, snap fhir.Tx) (io.Writer, error) {
			for _, typ := range src.Types {
				n, err := snap.Count(typ)
				if err != nil {
					return nil, err
				}
				if n > 0 {
					f.Counts[typ] = n
				}
			}
			f.Size = size
			if err := tw.WriteHeader(&tar.Header{Name: src.Name, Mode: 0o600, Size: size, ModTime: now, Typeflag: tar.TypeReg}); err != nil {
				return nil, err
			}
			return io.MultiWriter(tw, h), nil
		})
		if err != nil {
			return nil, fmt.Errorf("backup of %s: %w", src.Name, err)
		}
		f.SHA256 = hex.EncodeToString(h.Sum(nil))
		m.Files = append(m.Files, f)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(b); err != nil {
		return nil, err
	}
	return m, tw.Close()
}
