package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"time"
)

// joinLoop joins the seeds in the background, retrying with backoff, until
// this node sees another live member (by its own join or because a peer
// joined it) or m is closed. It owns nothing but itself; Close waits for
// it through m.wg.
func (m *Membership) joinLoop() {
	defer m.wg.Done()
	ctx := m.bgCtx
	backoff := m.cfg.JoinRetry.Initial
	for attempt := 1; ; attempt++ {
		if m.alive.Load() > 1 {
			m.log.LogAttrs(ctx, slog.LevelInfo, "joined the cluster", slog.Int("members", int(m.alive.Load())))
			close(m.joined)
			return
		}
		done, err := m.joinOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if m.alive.Load() > 1 {
			continue // logs and returns at the top
		}
		if done {
			// Every seed is a literal address of this node: it is the
			// seed, and the others join it.
			m.log.LogAttrs(ctx, slog.LevelInfo, "no seed other than this node; waiting to be joined")
			close(m.joined)
			return
		}
		wait := jitter(backoff)
		m.log.LogAttrs(ctx, slog.LevelInfo, "cannot join the cluster yet; retrying",
			slog.Int("attempt", attempt), slog.Duration("retry_in", wait), slog.Any("err", err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, m.cfg.JoinRetry.Max)
	}
}

// jitter spreads d by ±20% so that nodes started together do not retry in
// lockstep.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + rand.N(d*2/5+1)
}

// joinOnce resolves the seeds and pushes/pulls state with each address in
// turn. done reports that the seeds name only this node, by IP literal.
func (m *Membership) joinOnce(ctx context.Context) (done bool, err error) {
	self, addrs, dynamic, rerr := m.resolveOwnSeeds(ctx)
	var errs []error
	if rerr != nil {
		errs = append(errs, rerr)
	}
	candidates := 0
	for _, a := range addrs {
		if m.isSelf(a, self) {
			continue
		}
		candidates++
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if _, err := m.ml.Join([]string{a}); err != nil {
			errs = append(errs, fmt.Errorf("cannot join %s: %w", a, err))
		}
	}
	if candidates == 0 && !dynamic && rerr == nil {
		return true, nil
	}
	if candidates == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("seeds resolve to no address but this node's"))
	}
	return false, errors.Join(errs...)
}

// resolveOwnSeeds resolves the configured seeds (a missing port is this
// node's gossip port) and returns them with this node's own address.
func (m *Membership) resolveOwnSeeds(ctx context.Context) (self string, addrs []string, dynamic bool, err error) {
	self = m.Addr()
	_, selfPort, _ := net.SplitHostPort(self)
	port, _ := strconv.Atoi(selfPort)
	addrs, dynamic, err = resolveSeeds(ctx, m.cfg.Resolver, m.cfg.Seeds, port, m.cfg.TCPTimeout)
	return self, addrs, dynamic, err
}

// resolveSeeds turns seeds into "ip:port" addresses, deduplicated, in seed
// order. A host name is looked up with r (each lookup bounded by timeout)
// and may yield several addresses; a missing port is defPort. dynamic
// reports whether any seed needed a lookup. Seeds that fail to resolve are
// reported in err; the others are still returned.
func resolveSeeds(ctx context.Context, r Resolver, seeds []string, defPort int, timeout time.Duration) (addrs []string, dynamic bool, err error) {
	seen := make(map[string]bool)
	add := func(ip string, port int) {
		a := net.JoinHostPort(ip, strconv.Itoa(port))
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	var errs []error
	for _, s := range seeds {
		host, port, perr := splitAddr(s, defPort)
		if perr != nil {
			errs = append(errs, fmt.Errorf("seed %q: %w", s, perr))
			continue
		}
		if ip := net.ParseIP(host); ip != nil {
			add(ip.String(), port)
			continue
		}
		dynamic = true
		lctx, cancel := context.WithTimeout(ctx, timeout)
		ips, lerr := r.LookupHost(lctx, host)
		cancel()
		if lerr != nil {
			errs = append(errs, fmt.Errorf("cannot resolve seed %q: %w", s, lerr))
			continue
		}
		n := 0
		for _, a := range ips {
			if ip := net.ParseIP(a); ip != nil {
				add(ip.String(), port)
				n++
			}
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("seed %q resolves to no IP address (got %q)", s, ips))
		}
	}
	return addrs, dynamic, errors.Join(errs...)
}

// isSelf reports whether the seed address a is this node, whose advertised
// address is self: the same address, or a loopback address on our port
// when bound to all interfaces.
func (m *Membership) isSelf(a, self string) bool {
	if a == self {
		return true
	}
	host, port, err := net.SplitHostPort(a)
	_, selfPort, serr := net.SplitHostPort(self)
	if err != nil || serr != nil || port != selfPort || !m.bindAll {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
