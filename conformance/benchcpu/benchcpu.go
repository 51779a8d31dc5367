// Package benchcpu reports CPU time per operation in Go benchmarks. On a shared
// machine, wall time per operation follows the neighbours' load, CPU time much less:
// the project's benchmarks report both.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Process is the CPU time (user and system) the process has used so far.
func Process() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Report reports the process's CPU time per operation of b since start (a Process
// reading) as cpu-ns/op.
func Report(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op")
}
