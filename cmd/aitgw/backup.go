package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/appendonly"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/server/backup"
	"github.com/aitgw/aitgw/server/smart"
)

// The embedded store files under --data.
const (
	mainStoreFile  = "aitgw.db"
	auditStoreFile = "audit.db"
)

// scopeBackup lets an operator's token stream a backup from /admin/backup.
const scopeBackup = "aitgw/backup"

// storeFiles lists the embedded stores for a backup.
func storeFiles(main *bolt.Store, trail *appendonly.Store) []backup.Source {
	return []backup.Source{
		{Name: mainStoreFile, Store: main, Types: fhir.ResourceTypes()},
		{Name: auditStoreFile, Store: trail, Types: []string{"AuditEvent"}},
	}
}

// wireBackup serves GET /admin/backup to an operator token with scopeBackup: the
// archive of the store files, each from one snapshot, streamed while the gateway
// goes on serving.
func wireBackup(gw *gateway, engine *gin.Engine) {
	engine.GET("/admin/backup", func(c *gin.Context) {
		g := smart.GrantFrom(c)
		if g == nil || !g.HasScope(scopeBackup) {
			c.JSON(http.StatusForbidden, gin.H{"error": "insufficient_scope", "error_description": "a backup needs an operator token with scope " + scopeBackup + " (aitgw backup mints one)"})
			return
		}
		if len(gw.files) == 0 {
			c.JSON(http.StatusNotImplemented, gin.H{"error": "not_supported", "error_description": "this gateway keeps its data in Redis: back Redis up with its own tools (BGSAVE, AOF)"})
			return
		}
		c.Header("Content-Type", "application/x-tar")
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusOK)
		if _, err := backup.Write(c.Writer, version, time.Now(), gw.files); err != nil {
			// the archive is cut short without a manifest: the client sees it as damaged
			c.Error(err)
		}
	})
}

// backupCmd takes a backup of the running gateway: aitgw backup --to FILE [--data DIR].
// The copy is written to FILE only once it was verified: unpacked, each store opened,
// and its counts found equal to the manifest's.
func backupCmd(args []string) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	var cfg config
	cfg.operatorFlags(fs)
	to := fs.String("to", "", "file to write the backup to (a tar archive)")
	if err := parseWithConfig(fs, args, true); err != nil {
		return 2
	}
	if *to == "" {
		fmt.Fprintln(os.Stderr, "usage: aitgw backup --to FILE [--data DIR of the running gateway]")
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, "backup:", err)
		return 1
	}
	if err := takeBackup(&cfg, *to); err != nil {
		fmt.Fprintln(os.Stderr, "backup:", err)
		return 1
	}
	return 0
}

func takeBackup(cfg *config, to string) error {
	tok, err := smart.MintToken(cfg.Data, cfg.smart(), scopeBackup, 2*time.Minute)
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(http.MethodGet, cfg.origin()+"/admin/backup", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the gateway answered %d: %s", resp.StatusCode, b)
	}
	tmp := to + ".partial"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	w := bufio.NewWriterSize(out, 1<<20)
	if _, err := io.Copy(w, resp.Body); err != nil {
		out.Close()
		return fmt.Errorf("the transfer was cut: %w", err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	out.Close()
	m, err := verifyBackupFile(tmp)
	if err != nil {
		return fmt.Errorf("the copy did not verify, nothing was written to %s: %w", to, err)
	}
	if err := os.Rename(tmp, to); err != nil {
		return err
	}
	fmt.Printf("backup written to %s and verified:\n", to)
	for _, f := range m.Files {
		total := 0
		for _, n := range f.Counts {
			total += n
		}
		fmt.Printf("  %s: %d bytes, %d resources in %d types\n", f.Name, f.Size, total, len(f.Counts))
	}
	return nil
}

// verifyBackupFile unpacks a backup into a temporary directory, opens each store and
// compares its counts to the manifest.
func verifyBackupFile(path string) (*backup.Manifest, error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".aitgw-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	return restoreInto(path, dir)
}

// restoreInto unpacks and verifies a backup in dir.
func restoreInto(path, dir string) (*backup.Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := backup.Extract(bufio.NewReaderSize(f, 1<<20), dir)
	if err != nil {
		return nil, err
	}
	if err := backup.Verify(m, dir, storeOpener); err != nil {
		for _, f := range m.Files {
			os.Remove(filepath.Join(dir, f.Name))
		}
		return nil, err
	}
	return m, nil
}

// storeOpener opens the store files a backup holds, to count them.
func storeOpener(name string) backup.Opener {
	count := func(s fhir.Store) backup.Counter {
		return func(typ string) (n int, err error) {
			err = s.View(contextBackground(), func(tx fhir.Tx) error { n, err = tx.Count(typ); return err })
			return n, err
		}
	}
	switch name {
	case mainStoreFile:
		return func(path string) (backup.Counter, func() error, error) {
			s, err := bolt.Open(path)
			if err != nil {
				return nil, nil, err
			}
			return count(s), s.Close, nil
		}
	case auditStoreFile:
		return func(path string) (backup.Counter, func() error, error) {
			s, err := appendonly.Open(path, "AuditEvent")
			if err != nil {
				return nil, nil, err
			}
			return count(s), s.Close, nil
		}
	}
	return nil
}

// restoreCmd restores a backup into a data directory that holds no store yet, with
// the gateway stopped: aitgw restore --from FILE --data DIR.
func restoreCmd(args []string) int {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "backup file (from aitgw backup)")
	data := fs.String("data", env("AITGW_DATA", "./data"), "data directory to restore into; it must hold no store yet (AITGW_DATA)")
	if err := parseWithConfig(fs, args, true); err != nil {
		return 2
	}
	if *from == "" {
		fmt.Fprintln(os.Stderr, "usage: aitgw restore --from FILE --data DIR (the gateway stopped, DIR without aitgw.db)")
		return 2
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "restore:", err)
		return 1
	}
	m, err := restoreInto(*from, *data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "restore:", err)
		return 1
	}
	fmt.Printf("restored into %s and verified (backup of %s):\n", *data, m.Created.Format(time.RFC3339))
	for _, f := range m.Files {
		fmt.Printf("  %s: %d bytes, counts match the manifest\n", f.Name, f.Size)
	}
	fmt.Println("the signing keys are not in a backup: copy DATA/smart/keys from the old data directory, or rotate them")
	return 0
}

func contextBackground() context.Context { return context.Background() }
