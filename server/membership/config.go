package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// DefaultGossipPort is the gossip port used when BindAddr or a seed names
// no port. It is memberlist's conventional port.
const DefaultGossipPort = 7946

// Resolver resolves a seed's host name to its addresses. *net.Resolver
// implements it; tests inject a fake. It must be safe for concurrent use.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

var _ Resolver = (*net.Resolver)(nil)

// JoinRetry is the backoff of the background join: the first retry waits
// Initial, each next one twice as long up to Max, with ±20% jitter.
type JoinRetry struct {
	Initial time.Duration // default 500ms
	Max     time.Duration // default 30s
}

// Config configures Start. Zero values take the defaults noted per field;
// the failure-detection defaults are memberlist's LAN profile.
type Config struct {
	// NodeName is the node's unique gossip name; default "node-<Meta.NodeID>".
	NodeName string
	// BindAddr is the gossip "host:port" (UDP and TCP). host must be an IP
	// literal or empty (all interfaces); port 0 takes an ephemeral port,
	// no port means DefaultGossipPort. Empty means ":7946".
	BindAddr string
	// AdvertiseAddr is the "ip:port" other nodes reach this node on; empty
	// means derived from BindAddr (a private interface address when bound
	// to all interfaces). A missing port means the bound port.
	AdvertiseAddr string
	// Seeds are the nodes to join: each "host:port", "host", "ip:port" or
	// "ip". A host name is resolved with Resolver at every attempt and may
	// yield several addresses (a DNS name for the whole cluster); a missing
	// port means the local gossip port. No seeds: the node waits to be
	// joined. Otherwise Start returns at once and a background loop retries
	// with JoinRetry's backoff until this node sees another live member.
	Seeds []string
	// Resolver resolves seed host names; default net.DefaultResolver.
	Resolver Resolver
	// Meta is what this node gossips at start (see UpdateMeta). Its
	// ClusterTag is the tag peers are checked against: a peer whose tag is
	// set and differs from ours (when ours is set) is refused, with the
	// reason logged.
	Meta Meta
	// Logger receives membership logs and memberlist's own log lines
	// (component=memberlist); default slog.Default().
	Logger *slog.Logger

	// ProbeInterval is the failure-detector probe period (default 1s) and
	// ProbeTimeout the wait for an ack (default 500ms).
	ProbeInterval time.Duration
	ProbeTimeout  time.Duration
	// SuspicionMult scales how long a node stays suspect before it is
	// declared dead: SuspicionMult × max(1, log10(N)) × ProbeInterval
	// (default 4).
	SuspicionMult int
	// GossipInterval is the gossip period (default 200ms).
	GossipInterval time.Duration
	// PushPullInterval is the full state sync period (default 30s).
	PushPullInterval time.Duration
	// TCPTimeout bounds a join or push/pull connection (default 10s).
	TCPTimeout time.Duration
	// BroadcastTimeout caps how long UpdateMeta and Leave wait for their
	// broadcast to go out when ctx has no earlier deadline (default 5s).
	BroadcastTimeout time.Duration
	// JoinRetry is the background join backoff.
	JoinRetry JoinRetry
	// SubscriberBuffer is each subscriber's event buffer (default 256).
	SubscriberBuffer int
	// DeadRetention is how long Members keeps reporting a Dead or Left
	// member (default 1h).
	DeadRetention time.Duration
	// ReconnectInterval is the period of the reconnect loop (default 2s):
	// after the first join, while this node knows a Dead member (not a
	// Left one) or sees fewer live members than it once did, it retries a
	// join with the dead members' last addresses and the seeds, so that
	// both sides of a healed partition find each other again.
	ReconnectInterval time.Duration

	// tuneMemberlist, when set (tests only), adjusts the translated
	// memberlist config before Create: a fault-injecting Transport (with
	// BindPort set for an ephemeral port), shorter internal timers.
	tuneMemberlist func(mc *memberlist.Config) error
}

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.NodeName == "" && c.Meta.NodeID != 0 {
		c.NodeName = "node-" + strconv.FormatUint(c.Meta.NodeID, 10)
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	setDefault(&c.ProbeInterval, time.Second)
	setDefault(&c.ProbeTimeout, 500*time.Millisecond)
	setDefault(&c.SuspicionMult, 4)
	setDefault(&c.GossipInterval, 200*time.Millisecond)
	setDefault(&c.PushPullInterval, 30*time.Second)
	setDefault(&c.TCPTimeout, 10*time.Second)
	setDefault(&c.BroadcastTimeout, 5*time.Second)
	setDefault(&c.JoinRetry.Initial, 500*time.Millisecond)
	setDefault(&c.JoinRetry.Max, 30*time.Second)
	setDefault(&c.SubscriberBuffer, 256)
	setDefault(&c.DeadRetention, time.Hour)
	setDefault(&c.ReconnectInterval, 2*time.Second)
	return c
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// addrs is the parsed form of BindAddr and AdvertiseAddr.
type addrs struct {
	bindIP      string // "" or an IP literal
	bindPort    int
	advertiseIP string // "" = derive
	advPort     int    // 0 = the bound port
}

var errConfig = errors.New("longboat/membership: invalid config")

// validate checks a defaulted config and parses its addresses.
func (c Config) validate() (addrs, error) {
	var a addrs
	if c.NodeName == "" {
		return a, fmt.Errorf("node name is empty and Meta.NodeID is 0: %w", errConfig)
	}
	if err := c.Meta.Validate(); err != nil {
		return a, err
	}
	var err error
	a.bindPort = DefaultGossipPort
	if c.BindAddr != "" {
		if a.bindIP, a.bindPort, err = splitAddr(c.BindAddr, DefaultGossipPort); err != nil {
			return a, fmt.Errorf("bind address %q: %w", c.BindAddr, err)
		}
	}
	if a.bindIP != "" && net.ParseIP(a.bindIP) == nil {
		return a, fmt.Errorf("bind address %q: host must be an IP literal: %w", c.BindAddr, errConfig)
	}
	if c.AdvertiseAddr != "" {
		if a.advertiseIP, a.advPort, err = splitAddr(c.AdvertiseAddr, 0); err != nil {
			return a, fmt.Errorf("advertise address %q: %w", c.AdvertiseAddr, err)
		}
		if net.ParseIP(a.advertiseIP) == nil {
			return a, fmt.Errorf("advertise address %q: host must be an IP literal: %w", c.AdvertiseAddr, errConfig)
		}
	}
	for _, s := range c.Seeds {
		if _, _, err := splitAddr(s, 0); err != nil {
			return a, fmt.Errorf("seed %q: %w", s, err)
		}
	}
	switch {
	case c.ProbeInterval < 0, c.ProbeTimeout < 0, c.GossipInterval < 0, c.PushPullInterval < 0,
		c.TCPTimeout < 0, c.BroadcastTimeout < 0, c.JoinRetry.Initial < 0, c.JoinRetry.Max < 0,
		c.DeadRetention < 0, c.ReconnectInterval < 0:
		return a, fmt.Errorf("negative duration: %w", errConfig)
	case c.SuspicionMult < 1, c.SubscriberBuffer < 1:
		return a, fmt.Errorf("SuspicionMult and SubscriberBuffer must be positive: %w", errConfig)
	}
	return a, nil
}

// splitAddr splits "host:port", "host", "ip", "[v6]:port" or "v6". A
// missing port yields defPort.
func splitAddr(s string, defPort int) (host string, port int, err error) {
	if ip := net.ParseIP(s); ip != nil {
		return s, defPort, nil
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		// No port: the whole string is the host ("seeds.example").
		if s == "" || strings.Contains(s, ":") {
			return "", 0, fmt.Errorf("cannot parse %q as host[:port]: %w", s, errConfig)
		}
		return s, defPort, nil
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("bad port %q: %w", p, errConfig)
	}
	return h, int(n), nil
}
