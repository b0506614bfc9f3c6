//go:build !unix

package pgdialect

func cpuNanos() int64 { return 0 }
