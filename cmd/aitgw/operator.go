package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aitgw/aitgw/server/smart"
)

// operatorCall signs a short-lived operator token with the key under --data and calls
// the running gateway: the store stays in the gateway's hands (one process owns the
// file), and the operator's actions go through the audit trail like any other.
func operatorCall(cfg *config, scope, method, target string, body any) (int, []byte, error) {
	tok, err := smart.MintToken(cfg.Data, cfg.smart(), scope, 2*time.Minute)
	if err != nil {
		return 0, nil, err
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("is the gateway running at %s? %w", cfg.base(), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// origin is the scheme and host of the FHIR base (where /auth lives).
func (c *config) origin() string {
	u, err := url.Parse(c.base())
	if err != nil {
		return c.base()
	}
	return u.Scheme + "://" + u.Host
}

// report prints a call's answer and turns its status into an exit code.
func report(status int, out []byte, err error, ok int) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(string(out))
	if status != ok {
		return 1
	}
	return 0
}

// launchCmd mints an EHR launch context for an app: aitgw launch --patient ID
// [--fhir-user Practitioner/ID]. It prints the launch value and iss.
func launchCmd(args []string) int {
	fs := flag.NewFlagSet("launch", flag.ContinueOnError)
	var cfg config
	cfg.flags(fs)
	patient := fs.String("patient", "", "patient in context")
	user := fs.String("fhir-user", "", "user launching the app, e.g. Practitioner/123")
	if err := fs.Parse(args); err != nil || *patient == "" {
		fmt.Fprintln(os.Stderr, "usage: aitgw launch --patient ID [--fhir-user Practitioner/ID]")
		return 2
	}
	st, out, err := operatorCall(&cfg, smart.ScopeMintLaunch, http.MethodPost, cfg.origin()+"/auth/launch",
		map[string]string{"patient": *patient, "fhirUser": *user})
	return report(st, out, err, http.StatusCreated)
}

// notifyCmd lists or replays dead-lettered notifications:
//
//	aitgw notify dead-letters
//	aitgw notify replay [--seq N]...   (no --seq: every dead letter)
//	aitgw notify undelivered           (the DetectedIssues of undelivered letters)
func notifyCmd(args []string) int {
	if len(args) == 0 || (args[0] != "dead-letters" && args[0] != "replay" && args[0] != "undelivered") {
		fmt.Fprintln(os.Stderr, "usage: aitgw notify dead-letters | replay [--seq N]... | undelivered")
		return 2
	}
	fs := flag.NewFlagSet("notify", flag.ContinueOnError)
	var cfg config
	cfg.flags(fs)
	var seqs multiFlag
	fs.Var(&seqs, "seq", "dead letter to replay (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if args[0] == "undelivered" {
		return notifyUndelivered(&cfg)
	}
	if args[0] == "dead-letters" {
		st, out, err := operatorCall(&cfg, "system/Communication.rs", http.MethodGet, cfg.base()+"/$ait-dead-letters", nil)
		return report(st, out, err, http.StatusOK)
	}
	q := url.Values{"seq": seqs}
	st, out, err := operatorCall(&cfg, "system/Communication.cruds", http.MethodPost, cfg.base()+"/$ait-replay?"+q.Encode(), nil)
	return report(st, out, err, http.StatusOK)
}

// usersCmd creates a user account of the built-in authorization server:
//
//	AITGW_USER_PASSWORD=… aitgw users add --user NAME --fhir-user Practitioner/ID
//
// The password is read from AITGW_USER_PASSWORD, or from standard input, never from
// the command line (where other users of the host could see it).
func usersCmd(args []string) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(os.Stderr, "usage: aitgw users add --user NAME --fhir-user Practitioner/ID (password from AITGW_USER_PASSWORD or stdin)")
		return 2
	}
	fs := flag.NewFlagSet("users add", flag.ContinueOnError)
	var cfg config
	cfg.flags(fs)
	user := fs.String("user", "", "user name")
	fhirUser := fs.String("fhir-user", "", "the user's FHIR identity, e.g. Practitioner/123")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	password := os.Getenv("AITGW_USER_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(os.Stderr, "users: no password on standard input")
			return 2
		}
		password = strings.TrimRight(line, "\r\n")
	}
	st, out, err := operatorCall(&cfg, smart.ScopeUsers, http.MethodPost, cfg.origin()+"/auth/users",
		map[string]string{"user": *user, "password": password, "fhirUser": *fhirUser})
	return report(st, out, err, http.StatusCreated)
}
