package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupUnderWriteLoad: "aitgw backup" takes a copy while clients keep writing;
// the copy is restored into a new data directory, a gateway started on it, and every
// write acknowledged before the backup began is found there, with its history.
func TestBackupUnderWriteLoad(t *testing.T) {
	g := startGateway(t)
	c := g.Client()

	var (
		mu    sync.Mutex
		acked []string // ids whose create was answered 201
	)
	var stop atomic.Bool
	var writers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for i := 0; !stop.Load(); i++ {
				body := fmt.Appendf(nil, `{"resourceType":"Patient","name":[{"family":"Backup%d-%d"}]}`, w, i)
				r, err := c.Do(http.MethodPost, "/Patient", body, nil)
				if err != nil || r.Status != http.StatusCreated {
					continue
				}
				var p struct{ ID string }
				_ = json.Unmarshal(r.Body, &p)
				mu.Lock()
				acked = append(acked, p.ID)
				mu.Unlock()
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "gw.tar")
	start := time.Now()
	out, err := exec.Command(binary, "backup", "--data", g.DataDir, "--to", file).CombinedOutput()
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond) // writes go on after the backup too
	stop.Store(true)
	writers.Wait()
	if err != nil {
		t.Fatalf("aitgw backup under load: %v %s", err, out)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	t.Logf("backup took %v; %d writes acknowledged before it, %d during and after; %s", took, len(before), during, out)
	if during == 0 {
		t.Errorf("no write was acknowledged while the backup ran: writes were stopped")
	}
	if len(before) == 0 {
		t.Fatal("no write was acknowledged before the backup: the load did not run")
	}

	restored := t.TempDir()
	if out, err := exec.Command(binary, "restore", "--from", file, "--data", restored).CombinedOutput(); err != nil {
		t.Fatalf("aitgw restore: %v %s", err, out)
	}
	// a second restore into the same directory is refused: it would overwrite a store
	if out, err := exec.Command(binary, "restore", "--from", file, "--data", restored).CombinedOutput(); err == nil || !strings.Contains(string(out), "exists") {
		t.Errorf("restore over an existing store: err=%v %s", err, out)
	}
	// the keys are not in the backup: bring them as the restore says
	if err := os.CopyFS(filepath.Join(restored, "smart"), os.DirFS(filepath.Join(g.DataDir, "smart"))); err != nil {
		t.Fatal(err)
	}
	g2, err := Start(context.Background(), binary, restored)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g2.Stop)
	c2 := g2.Client()
	for _, id := range before {
		r, err := c2.Do(http.MethodGet, "/Patient/"+id, nil, nil)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("acknowledged Patient/%s is missing from the restored backup: %v %v", id, r, err)
		}
	}
	r, err := c2.Do(http.MethodGet, "/Patient/"+before[0]+"/_history", nil, nil)
	var hist struct{ Entry []json.RawMessage }
	if err == nil {
		_ = json.Unmarshal(r.Body, &hist)
	}
	if err != nil || r.Status != http.StatusOK || len(hist.Entry) != 1 {
		t.Errorf("history of a restored resource: %v %v", r, err)
	}

	// a damaged backup does not restore
	b, _ := os.ReadFile(file)
	b[len(b)/3] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.tar")
	_ = os.WriteFile(bad, b, 0o600)
	if out, err := exec.Command(binary, "restore", "--from", bad, "--data", t.TempDir()).CombinedOutput(); err == nil {
		t.Errorf("a damaged backup was restored: %s", out)
	}
}
