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
	cfg.operatorFlags(fs)
	patient := fs.String("patient", "", "patient in context")
	user := fs.String("fhir-user", "", "user launching the app, e.g. Practitioner/123")
	if err := parseWithConfig(fs, args, true); err != nil || *patient == "" {
		fmt.Fprintln(os.Stderr, "usage: aitgw launch --patient ID [--fhir-user Practitioner/ID]")
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := cfg.mustExist("Patient/"+*patient, *user); err != nil {
		fmt.Fprintln(os.Stderr, "launch:", err)
		return 1
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
	cfg.operatorFlags(fs)
	var seqs multiFlag
	fs.Var(&seqs, "seq", "dead letter to replay (repeatable)")
	if err := parseWithConfig(fs, args[1:], true); err != nil {
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if args[0] == "undelivered" {
		return notifyUndelivered(&cfg)
	}
	if args[0] == "dead-letters" {
		st, out, err := operatorCall(&cfg, "system/Communication.rs", http.MethodGet, cfg.base()+"/$ait-dead-letters", nil)
		if err == nil && st == http.StatusOK && isEmptyJSONList(out) {
			fmt.Println("no dead-lettered notification: every due notification was delivered or is being retried")
			return 0
		}
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
	const usage = "usage: aitgw users add --user NAME --fhir-user Practitioner/ID [--replace] (password from AITGW_USER_PASSWORD or stdin) | list | remove --user NAME"
	if len(args) == 0 || (args[0] != "add" && args[0] != "list" && args[0] != "remove") {
		fmt.Fprintln(os.Stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("users "+args[0], flag.ContinueOnError)
	var cfg config
	cfg.operatorFlags(fs)
	user := fs.String("user", "", "user name")
	if args[0] != "add" {
		return accountsCmd(&cfg, fs, args, smart.ScopeUsers, "/auth/users", user)
	}
	fhirUser := fs.String("fhir-user", "", "the user's FHIR identity, e.g. Practitioner/123")
	replace := fs.Bool("replace", false, "replace an existing account of that name (refused otherwise)")
	if err := parseWithConfig(fs, args[1:], true); err != nil {
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
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
	if err := cfg.mustExist(*fhirUser); err != nil {
		fmt.Fprintln(os.Stderr, "users:", err)
		return 1
	}
	st, out, err := operatorCall(&cfg, smart.ScopeUsers, http.MethodPost, cfg.origin()+"/auth/users",
		map[string]any{"user": *user, "password": password, "fhirUser": *fhirUser, "replace": *replace})
	return report(st, out, err, http.StatusCreated)
}

// accountsCmd lists (GET path) or removes (DELETE path/NAME) the accounts of the
// built-in authorization server: users, or registered clients.
func accountsCmd(cfg *config, fs *flag.FlagSet, args []string, scope, path string, name *string) int {
	if err := parseWithConfig(fs, args[1:], true); err != nil {
		return 2
	}
	if err := cfg.findGateway(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if args[0] == "list" {
		st, out, err := operatorCall(cfg, scope, http.MethodGet, cfg.origin()+path, nil)
		return report(st, out, err, http.StatusOK)
	}
	if *name == "" {
		fmt.Fprintf(os.Stderr, "aitgw %s: which one? give its name or id\n", fs.Name())
		return 2
	}
	st, out, err := operatorCall(cfg, scope, http.MethodDelete, cfg.origin()+path+"/"+url.PathEscape(*name), nil)
	if err == nil && st == http.StatusNoContent {
		fmt.Printf("removed %s\n", *name)
		return 0
	}
	return report(st, out, err, http.StatusNoContent)
}

// mustExist checks, with a read-only operator token, that each reference ("Patient/1",
// "Practitioner/2"; empty ones skipped) names a resource the gateway holds: a launch
// or an account pointing at nothing would only fail later, in front of a user.
func (c *config) mustExist(refs ...string) error {
	for _, ref := range refs {
		if ref == "" {
			continue
		}
		typ, id, ok := strings.Cut(ref, "/")
		if !ok || typ == "" || id == "" || strings.ContainsAny(id, "/?#") {
			return fmt.Errorf("%q is not a reference of the form Type/id", ref)
		}
		st, _, err := operatorCall(c, "system/"+typ+".r", http.MethodGet, c.base()+"/"+typ+"/"+url.PathEscape(id), nil)
		if err != nil {
			return err
		}
		if st == http.StatusNotFound || st == http.StatusGone {
			return fmt.Errorf("%s does not exist on the gateway at %s: create it first, or check the id", ref, c.base())
		}
		if st != http.StatusOK {
			return fmt.Errorf("checking that %s exists: the gateway answered %d", ref, st)
		}
	}
	return nil
}

// isEmptyJSONList reports whether an operation's answer lists nothing: [] or null,
// or a Parameters whose only value is one of those, or has no parameter at all.
func isEmptyJSONList(b []byte) bool {
	t := strings.TrimSpace(string(b))
	if t == "null" || t == "[]" {
		return true
	}
	var p struct {
		ResourceType string
		Parameter    []struct{ ValueString *string }
	}
	if json.Unmarshal(b, &p) != nil || p.ResourceType != "Parameters" {
		return false
	}
	if len(p.Parameter) == 0 {
		return true
	}
	return len(p.Parameter) == 1 && p.Parameter[0].ValueString != nil &&
		(*p.Parameter[0].ValueString == "null" || *p.Parameter[0].ValueString == "[]")
}
