package membership

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitAddr(t *testing.T) {
	f := func(in string, def int, host string, port int, ok bool) {
		t.Helper()
		h, p, err := splitAddr(in, def)
		if (err == nil) != ok || err == nil && (h != host || p != port) {
			t.Errorf("splitAddr(%q) = %q, %d, %v", in, h, p, err)
		}
		if err != nil && !errors.Is(err, errConfig) {
			t.Errorf("splitAddr(%q): %v without errConfig", in, err)
		}
	}
	f("10.0.0.1:7000", 1, "10.0.0.1", 7000, true)
	f("10.0.0.1", 1, "10.0.0.1", 1, true)
	f("seeds.example", 5, "seeds.example", 5, true)
	f("seeds.example:6", 5, "seeds.example", 6, true)
	f("[::1]:7", 5, "::1", 7, true)
	f("::1", 5, "::1", 5, true)
	f(":7946", 1, "", 7946, true)
	f("", 1, "", 0, false)
	f("a:b:c", 1, "", 0, false)
	f("host:port", 1, "", 0, false)
	f("host:70000", 1, "", 0, false)
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Meta: Meta{NodeID: 42}}.withDefaults()
	if c.NodeName != "node-42" || c.ProbeInterval != time.Second || c.SuspicionMult != 4 ||
		c.JoinRetry.Max != 30*time.Second || c.SubscriberBuffer != 256 || c.Resolver == nil || c.Logger == nil ||
		c.ReconnectInterval != 2*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	a, err := c.validate()
	if err != nil || a.bindIP != "" || a.bindPort != DefaultGossipPort {
		t.Errorf("empty BindAddr: %+v, %v", a, err)
	}
	c = Config{NodeName: "x", Meta: Meta{NodeID: 42}, ProbeInterval: time.Millisecond}.withDefaults()
	if c.NodeName != "x" || c.ProbeInterval != time.Millisecond {
		t.Errorf("overrides lost: %+v", c)
	}
}

func TestResolveSeeds(t *testing.T) {
	r := &fakeResolver{hosts: map[string][]string{
		"two.test":  {"10.0.0.1", "10.0.0.2"},
		"v6.test":   {"fd00::1"},
		"junk.test": {"not-an-ip"},
	}}
	addrs, dynamic, err := resolveSeeds(context.Background(), r,
		[]string{"two.test:7000", "10.0.0.1:7000", "v6.test", "10.0.0.3", "missing.test", "junk.test"}, 7946, time.Second)
	want := []string{"10.0.0.1:7000", "10.0.0.2:7000", "[fd00::1]:7946", "10.0.0.3:7946"}
	if !slices.Equal(addrs, want) || !dynamic {
		t.Errorf("addrs = %v (dynamic %v), want %v", addrs, dynamic, want)
	}
	if err == nil || !strings.Contains(err.Error(), "missing.test") || !strings.Contains(err.Error(), "junk.test") {
		t.Errorf("err = %v, want failures for missing.test and junk.test", err)
	}

	addrs, dynamic, err = resolveSeeds(context.Background(), r, []string{"10.0.0.9:1"}, 7946, time.Second)
	if !slices.Equal(addrs, []string{"10.0.0.9:1"}) || dynamic || err != nil {
		t.Errorf("static seed: %v %v %v", addrs, dynamic, err)
	}
}

func TestParseMemberlistLine(t *testing.T) {
	f := func(line string, level slog.Level, msg string) {
		t.Helper()
		gotLevel, gotMsg := parseMemberlistLine(line)
		if gotLevel != level || gotMsg != msg {
			t.Errorf("parse(%q) = %v %q, want %v %q", line, gotLevel, gotMsg, level, msg)
		}
	}
	f("[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", slog.LevelDebug, "Stream connection from=127.0.0.1:1")
	f("[INFO] memberlist: Suspect node-2 has failed, no acks received", slog.LevelInfo, "Suspect node-2 has failed, no acks received")
	f("[WARN] memberlist: Refuting a suspect message (from: node-1)", slog.LevelWarn, "Refuting a suspect message (from: node-1)")
	f("[ERR] memberlist: Failed push/pull merge: x", slog.LevelError, "Failed push/pull merge: x")
	f("[ERROR] something", slog.LevelError, "something")
	f("[WARN] memberlist: ignoring alive message for 'x': refused", slog.LevelDebug, "ignoring alive message for 'x': refused")
	f("plain line", slog.LevelInfo, "plain line")
	f("[weird] memberlist: x", slog.LevelInfo, "[weird] memberlist: x")
}
