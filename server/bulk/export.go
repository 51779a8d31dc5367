package bulk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// start runs j in the background; m.mu held.
func (m *Manager) start(j *job) {
	ctx, cancel := context.WithCancel(m.ctx)
	m.running[j.ID] = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel()
		err := m.export(ctx, j)
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.running, j.ID)
		switch {
		case j.State == stateCancelled:
			os.RemoveAll(m.dir(j.ID))
			return
		case ctx.Err() != nil:
			return // the gateway is stopping: the job stays "running" and resumes at start
		case err != nil:
			m.cfg.Logger.Error("export failed", "job", j.ID, "error", err.Error())
			j.State, j.Error = stateFailed, "the export failed; start it again"
		default:
			j.State = stateCompleted
		}
		j.Finished = time.Now().UTC()
		if err := j.save(m.dir(j.ID)); err != nil {
			m.cfg.Logger.Error("export state not saved", "job", j.ID, "error", err.Error())
		}
	}()
}

// export writes every type not yet done, one file each, saving the job after each.
func (m *Manager) export(ctx context.Context, j *job) error {
	m.mu.Lock()
	types := append([]string(nil), j.Types...)
	m.mu.Unlock()
	for _, typ := range types {
		m.mu.Lock()
		done := j.done(typ)
		if !done {
			j.Current, j.Written = typ, 0
		}
		m.mu.Unlock()
		if done {
			continue
		}
		out, err := m.exportType(ctx, j, typ)
		if err != nil {
			return err
		}
		m.mu.Lock()
		j.Done = append(j.Done, out)
		j.Current = ""
		err = j.save(m.dir(j.ID))
		m.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// exportType streams the resources of typ, as they were at the transaction time, to
// typ.ndjson (written as .part, synced, then renamed: a crash leaves no half file that
// looks done). Memory stays bounded: one buffered writer, plus the id set of a
// _typeFilter or a Group.
func (m *Manager) exportType(ctx context.Context, j *job, typ string) (output, error) {
	name := typ + ".ndjson"
	path := filepath.Join(m.dir(j.ID), name)
	f, err := os.OpenFile(path+".part", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return output{}, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	count := 0
	var line bytes.Buffer
	err = m.cfg.Store.View(ctx, func(tx fhir.Tx) error {
		keep, err := m.selection(tx, j, typ)
		if err != nil {
			return err
		}
		var werr error
		scanErr := tx.ScanType(typ, func(rec *fhir.Record) bool {
			if count%1024 == 0 && ctx.Err() != nil {
				werr = ctx.Err()
				return false
			}
			if keep != nil && !keep[rec.ID] {
				return true
			}
			if !rec.LastUpdated.Before(j.TransactionTime) {
				old, err := versionBefore(tx, typ, rec.ID, j.TransactionTime)
				if err != nil || old == nil {
					werr = err
					return err == nil
				}
				rec = old
			}
			if !j.Since.IsZero() && rec.LastUpdated.Before(j.Since) {
				return true
			}
			if j.Level == levelPatient && typ != "Patient" && !bytes.Contains(rec.Body, []byte("Patient/")) {
				return true // a compartment type with no patient: not patient data
			}
			body := rec.Body
			if bytes.ContainsAny(body, "\r\n") {
				line.Reset()
				if werr = json.Compact(&line, body); werr != nil {
					return false
				}
				body = line.Bytes()
			}
			if _, werr = w.Write(body); werr == nil {
				werr = w.WriteByte('\n')
			}
			count++
			if count%4096 == 0 {
				m.mu.Lock()
				j.Written = count
				m.mu.Unlock()
			}
			if count%16384 == 0 {
				releasePages(m.cfg.StoreFile) // inside the read transaction: see releasePages
			}
			return werr == nil
		})
		releasePages(m.cfg.StoreFile)
		if scanErr != nil {
			return scanErr
		}
		return werr
	})
	if err != nil {
		return output{}, err
	}
	if err := w.Flush(); err != nil {
		return output{}, err
	}
	if err := f.Sync(); err != nil {
		return output{}, err
	}
	if count == 0 {
		os.Remove(path + ".part")
		return output{Type: typ}, nil
	}
	if err := os.Rename(path+".part", path); err != nil {
		return output{}, err
	}
	return output{Type: typ, File: name, Count: count}, syncDir(m.dir(j.ID))
}

// selection returns the ids of typ the export keeps, or nil for all of them: the
// members' compartments of a Group export, intersected with the _typeFilter queries.
func (m *Manager) selection(tx fhir.Tx, j *job, typ string) (map[string]bool, error) {
	var keep map[string]bool
	if j.Level == levelGroup || len(j.Members) > 0 {
		keep = map[string]bool{}
		for _, p := range j.Members {
			if typ == "Patient" {
				keep[p] = true
				continue
			}
			for _, param := range m.cfg.Compartment(typ) {
				if strings.HasPrefix(param, "_") || param == "link" {
					continue
				}
				ids, err := m.cfg.Match(tx, typ, url.Values{param: {"Patient/" + p}}.Encode())
				if err != nil {
					continue // a compartment parameter this server does not index
				}
				for _, id := range ids {
					keep[id] = true
				}
			}
		}
	}
	filters := j.TypeFilter[typ]
	if len(filters) == 0 {
		return keep, nil
	}
	matched := map[string]bool{}
	for _, q := range filters {
		ids, err := m.cfg.Match(tx, typ, q)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if keep == nil || keep[id] {
				matched[id] = true
			}
		}
	}
	return matched, nil
}

// versionBefore returns the version of typ/id current just before t, nil when none (or
// deleted then).
func versionBefore(tx fhir.Tx, typ, id string, t time.Time) (*fhir.Record, error) {
	var old *fhir.Record
	err := tx.History(fhir.HistoryFilter{Type: typ, ID: id, At: t}, func(r *fhir.Record) bool {
		old = r
		return false
	})
	if errors.Is(err, fhir.ErrNotFound) || old == nil || old.Deleted {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// the record may live in the transaction's memory only: keep a copy
	old.Body = bytes.Clone(old.Body)
	return old, nil
}
