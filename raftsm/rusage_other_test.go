//go:build !unix

package raftsm

func cpuNanos() int64 { return 0 }
