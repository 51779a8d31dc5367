package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// gatewayRecord is what serve writes under --data when it starts: the one source from
// which the operator commands learn where the gateway that owns this data directory
// listens, so that a token is always minted with the keys of the gateway it is sent
// to.
type gatewayRecord struct {
	// Instance identifies this run of serve; the gateway answers it on /healthz, so
	// that a command can tell that the process at Addr is the one using this --data.
	Instance string    `json:"instance"`
	Addr     string    `json:"addr"`
	BaseURL  string    `json:"baseUrl"`
	PID      int       `json:"pid"`
	Version  string    `json:"version"`
	Started  time.Time `json:"started"`
}

const recordFile = "gateway.json"

// newInstance makes the id of one run of serve.
func newInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeRecord records the running gateway under its data directory.
func writeRecord(dataDir string, rec gatewayRecord) error {
	b, _ := json.MarshalIndent(rec, "", "  ")
	tmp := filepath.Join(dataDir, recordFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dataDir, recordFile))
}

// operatorFlags declares what an operator command needs to find its gateway: the
// data directory (keys and gateway.json), and an explicit address for the rare case
// of a gateway reached another way.
func (c *config) operatorFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", env("AITGW_DATA", "./data"), "data directory of the running gateway (AITGW_DATA): its keys sign the operator's token, its gateway.json says where the gateway listens")
	fs.StringVar(&c.Addr, "addr", env("AITGW_ADDR", ""), "address of the gateway (AITGW_ADDR); default: the one recorded in DATA/gateway.json")
	fs.StringVar(&c.BaseURL, "base-url", env("AITGW_BASE_URL", ""), "FHIR base of the gateway (AITGW_BASE_URL); default: the one recorded in DATA/gateway.json")
}

// findGateway completes an operator command's settings from the record of the
// gateway that serves --data, and checks that the gateway there is that one. It
// refuses, saying what to do, when no gateway ever ran with --data, or when another
// gateway answers at the address.
func (c *config) findGateway() error {
	b, err := os.ReadFile(filepath.Join(c.Data, recordFile))
	if errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(c.Data)
		return fmt.Errorf("no gateway has run with --data %s (no %s there): give the --data directory of the running gateway (the one its serve command was given)", abs, recordFile)
	}
	if err != nil {
		return err
	}
	var rec gatewayRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(c.Data, recordFile), err)
	}
	if c.Addr == "" {
		c.Addr = rec.Addr
	}
	if c.BaseURL == "" && (c.Addr == rec.Addr) {
		c.BaseURL = rec.BaseURL
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(c.origin() + "/healthz")
	if err != nil {
		return fmt.Errorf("the gateway recorded in %s (%s, pid %d) does not answer: is it running? (%v)", filepath.Join(c.Data, recordFile), c.origin(), rec.PID, err)
	}
	defer resp.Body.Close()
	var h struct{ Instance string }
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&h)
	if h.Instance != rec.Instance {
		return fmt.Errorf("the gateway answering at %s is not the one that uses --data %s (it was started with another data directory): give that gateway's --data, or its --addr", c.origin(), c.Data)
	}
	return nil
}

// recorded checks that a gateway has run with --data, for the commands that act on
// the data directory itself (keys rotate): acting on a folder no gateway uses would
// change nothing the operator meant to change.
func (c *config) recorded() error {
	if _, err := os.Stat(filepath.Join(c.Data, recordFile)); err != nil {
		abs, _ := filepath.Abs(c.Data)
		return fmt.Errorf("no gateway has run with --data %s (no %s there): give the --data directory of the gateway whose keys you mean", abs, recordFile)
	}
	return nil
}
