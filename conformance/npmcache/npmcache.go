// Package npmcache installs the Node packages the tests drive (fhirclient,
// fhir-kit-client) into the user's cache directory, once per version, never in the
// clone.
package npmcache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Modules returns the node_modules directory that holds pkg@version, for NODE_PATH or
// an import path, and installs it first when it is not there. `go test ./...` runs the
// test binaries of several packages at once, and two of them install fhirclient:
// installation holds an exclusive lock on the version's directory and runs npm in a
// fresh directory renamed into place once npm has finished, so that no process sees a
// half-installed package or runs npm over another's (a test failed with "Cannot find
// module 'fhirclient'" when two npm runs shared one prefix).
func Modules(pkg, version string) (string, error) {
	root := os.Getenv("AITGW_CACHE")
	if root == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		root = filepath.Join(dir, "aitgw-test")
	}
	dir := filepath.Join(root, pkg+"-"+version)
	mods := filepath.Join(dir, "node_modules")
	installed := func() bool {
		_, err := os.Stat(filepath.Join(mods, pkg, "package.json"))
		return err == nil
	}
	if installed() {
		return mods, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // released on close anyway
	if installed() {                                     // another process installed it while this one waited
		return mods, nil
	}
	tmp, err := os.MkdirTemp(root, pkg+"-"+version+".installing-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-save",
		"--prefix", tmp, pkg+"@"+version).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	if _, err := os.Stat(filepath.Join(tmp, "node_modules", pkg, "package.json")); err != nil {
		return "", fmt.Errorf("npm install %s@%s left no %s/package.json:\n%s", pkg, version, pkg, out)
	}
	_ = os.RemoveAll(dir) // an install interrupted before this lock existed
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return mods, nil
}
