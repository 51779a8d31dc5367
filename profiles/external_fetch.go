package profiles

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// IPS is the International Patient Summary guide the hub's summaries conform to.
const (
	IPSPackage = "hl7.fhir.uv.ips"
	IPSVersion = "2.0.0"
)

// FetchNPM returns the path of the package's tarball in the download cache
// ($AITGW_CACHE, else the user cache directory), fetching it with "npm pack" the first
// time. The gateway does not call it: it is for tests and tools.
func FetchNPM(ctx context.Context, name, version string) (string, error) {
	cache := os.Getenv("AITGW_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(dir, "aitgw")
	}
	dir := filepath.Join(cache, "npm")
	tgz := filepath.Join(dir, name+"-"+version+".tgz")
	if _, err := os.Stat(tgz); err == nil {
		return tgz, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "--pack-destination", dir, name+"@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm pack %s@%s: %v: %s", name, version, err, out)
	}
	if _, err := os.Stat(tgz); err != nil {
		return "", fmt.Errorf("npm pack %s@%s did not produce %s", name, version, tgz)
	}
	return tgz, nil
}
