//go:build !linux

package bulk

// releasePages is a no-op where the mapping cannot be found (see pages_linux.go).
func releasePages(string) {}
