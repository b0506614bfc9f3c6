package server

import (
	"strings"
	"testing"
)

// TestAdvertise: the advertised address keeps the listener's port and
// takes --advertise-host when given; a wildcard listener without it is
// refused with a message saying what to set.
func TestAdvertise(t *testing.T) {
	for _, tc := range []struct{ listen, host, want, err string }{
		{"127.0.0.1:7200", "", "127.0.0.1:7200", ""},
		{"0.0.0.0:7200", "node1", "node1:7200", ""},
		{"[::]:5433", "node2", "node2:5433", ""},
		{"127.0.0.1:7100", "10.0.0.5", "10.0.0.5:7100", ""},
		{"0.0.0.0:7100", "", "", "--advertise-host"},
		{"[::]:7100", "", "", "all interfaces"},
		{":7100", "", "", "all interfaces"},
		{"nonsense", "", "", "invalid address"},
	} {
		got, err := advertise(tc.listen, tc.host)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("advertise(%q, %q) = %q, %v; want an error containing %q", tc.listen, tc.host, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("advertise(%q, %q) = %q, %v; want %q", tc.listen, tc.host, got, err, tc.want)
		}
	}
}
