//go:build unix

package raftsm

import "syscall"

// cpuNanos returns the process's user+system CPU time. Benchmarks report
// CPU time per op because wall time is unreliable on a shared machine.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
