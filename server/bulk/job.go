package bulk

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Job states.
const (
	stateRunning   = "running"
	stateCompleted = "completed"
	stateFailed    = "failed"
	stateCancelled = "cancelled"
)

// Levels of an export.
const (
	levelSystem  = "system"
	levelPatient = "patient"
	levelGroup   = "group"
)

// job is one export, as kept in its job.json.
type job struct {
	ID     string `json:"id"`
	Client string `json:"client"`
	// Request is the kick-off URL, echoed in the manifest.
	Request string `json:"request"`
	Level   string `json:"level"`
	// Group is the Group id of a group-level export; Members its patients, read at
	// kick-off, or the patients a Patient-level export was restricted to (patient).
	Group   string   `json:"group,omitempty"`
	Members []string `json:"members,omitempty"`
	Types   []string `json:"types"`
	// Since is _since (zero: all).
	Since time.Time `json:"since,omitzero"`
	// TypeFilter holds the _typeFilter queries by type.
	TypeFilter map[string][]string `json:"typeFilter,omitempty"`
	// TransactionTime is the snapshot: versions updated before it are exported, as they
	// were then, even when the export resumes after a restart.
	TransactionTime time.Time `json:"transactionTime"`
	State           string    `json:"state"`
	// Done holds the output of the types finished, in order.
	Done []output `json:"done,omitempty"`
	// Current is the type being written and Written how many resources so far.
	Current  string    `json:"-"`
	Written  int       `json:"-"`
	Restarts int       `json:"restarts,omitempty"`
	Error    string    `json:"error,omitempty"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
}

// output is one NDJSON file of a finished type.
type output struct {
	Type  string `json:"type"`
	File  string `json:"file"` // empty when the type had no resource
	Count int    `json:"count"`
}

// save writes job.json atomically (temporary file, fsync, rename).
func (j *job) save(dir string) error {
	raw, err := json.Marshal(j)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "job.json.tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, "job.json")); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func loadJob(dir string) (*job, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "job.json"))
	if err != nil {
		return nil, err
	}
	var j job
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// done reports whether typ was finished.
func (j *job) done(typ string) bool {
	for _, o := range j.Done {
		if o.Type == typ {
			return true
		}
	}
	return false
}

// snapshot copies the job for reading outside the lock.
func (j *job) snapshot() job {
	c := *j
	c.Done = append([]output(nil), j.Done...)
	return c
}
