package bulk

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// releasePages drops from the process's page tables the pages of the store file
// (bbolt's read-only shared mmap) that an export's scan has faulted in, so that the
// gateway's resident memory does not grow by the size of the database during an
// export; the pages stay in the kernel's page cache and fault back in on the next
// read. It must be called while the export's read transaction is open: bbolt cannot
// remap the file then (a remap waits for every read transaction), so the range read
// from /proc/self/maps is the store's mapping and nothing else.
func releasePages(file string) {
	if file == "" {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// address perms offset dev inode pathname; only the read-only shared mapping of
		// the store file
		if len(fields) < 6 || fields[5] != file || !strings.HasPrefix(fields[1], "r-") || fields[1][3] != 's' {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// the raw call: the range is the kernel's, not a Go object
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), syscall.MADV_DONTNEED)
	}
}
