//go:build !unix

package copyin

func cpuNanos() int64 { return 0 }
