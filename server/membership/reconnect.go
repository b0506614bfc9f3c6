package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// reconnectWarnEvery is how long reconnect attempts must keep failing
// before the failure is logged at Warn, and then how often; each failed
// round is logged at Debug.
const reconnectWarnEvery = time.Minute

// reconnectLoop heals partitions. memberlist probes and gossips only with
// members it believes alive or suspect (and with dead ones for
// GossipToTheDeadTime), so once both sides of a cut have declared each
// other dead nobody ever contacts the other side again. Every
// ReconnectInterval, while this node knows a Dead member or sees fewer live
// members than its peak, the loop pushes/pulls state with the dead
// members' last addresses and the seeds, the way Serf's reconnect does.
// The exchange carries each side's view of the other as dead, so each
// refutes with a higher incarnation, and the next exchange (this round's
// next address or the next round) brings the refutations across.
//
// It starts after the first join (WaitJoined) and runs until Close or
// Leave. Members that Left are never targeted: their leave intent is known
// (memberState.leaving), and a left node that still answers reports itself
// as left in its push/pull state, which memberlist keeps as left.
func (m *Membership) reconnectLoop() {
	defer m.wg.Done()
	ctx := m.bgCtx
	select {
	case <-m.joined:
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(m.cfg.ReconnectInterval)
	defer tick.Stop()
	var warn failureLog
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := m.reconnectPlan()
		if p.stop {
			return
		}
		if !p.needed() {
			warn.ok()
			continue
		}
		err := m.reconnectOnce(ctx, p.dead)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			warn.ok()
			continue
		}
		lvl := slog.LevelDebug
		if warn.failed(time.Now()) {
			lvl = slog.LevelWarn
		}
		m.log.LogAttrs(ctx, lvl, "cannot reconnect to the cluster yet; retrying",
			slog.Any("dead", p.dead), slog.Int("alive", p.alive), slog.Int("peak", p.peak),
			slog.Duration("retry_in", m.cfg.ReconnectInterval), slog.Any("err", err))
	}
}

// reconnectPlan is what the reconnect loop sees at the start of a round.
type reconnectPlan struct {
	stop        bool     // this node left or is closing
	dead        []string // last addresses of Dead members (not Left)
	alive, peak int
}

// needed reports whether the round should try to reconnect.
func (p reconnectPlan) needed() bool { return len(p.dead) > 0 || p.alive < p.peak }

// reconnectPlan reads the member table.
func (m *Membership) reconnectPlan() reconnectPlan {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := reconnectPlan{stop: m.mu.left || m.mu.closed, alive: int(m.alive.Load()), peak: m.mu.peak}
	for name, st := range m.mu.members {
		if name == m.cfg.NodeName || st.Status != StatusDead || st.leaving || st.Addr == "" {
			continue
		}
		p.dead = append(p.dead, st.Addr)
	}
	return p
}

// reconnectOnce pushes/pulls state with each dead address and each seed
// (resolved again), skipping this node, checking ctx between addresses.
// Each exchange is bounded by TCPTimeout (memberlist dials and sets the
// connection deadline with it). It returns nil if every dead address and
// at least one address overall answered, or if there was nothing to try.
func (m *Membership) reconnectOnce(ctx context.Context, dead []string) error {
	self, seeds, _, rerr := m.resolveOwnSeeds(ctx)
	var errs []error
	if rerr != nil {
		errs = append(errs, rerr)
	}
	isDead := make(map[string]bool, len(dead))
	var targets []string
	for _, a := range dead {
		if !isDead[a] && !m.isSelf(a, self) {
			isDead[a] = true
			targets = append(targets, a)
		}
	}
	for _, a := range seeds {
		if !isDead[a] && !m.isSelf(a, self) {
			targets = append(targets, a)
		}
	}
	reached, deadFailed := 0, false
	for _, a := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := m.ml.Join([]string{a}); err != nil {
			m.log.LogAttrs(ctx, slog.LevelDebug, "reconnect attempt failed", slog.String("addr", a), slog.Any("err", err))
			errs = append(errs, fmt.Errorf("cannot reach %s: %w", a, err))
			deadFailed = deadFailed || isDead[a]
			continue
		}
		reached++
	}
	if reached == 0 || deadFailed {
		// No target at all (no dead member, seeds only this node) joins
		// nothing and is not a failure: there is nothing to retry.
		return errors.Join(errs...)
	}
	return nil
}

// failureLog decides the level of a repeated failure: Warn once it has
// lasted reconnectWarnEvery, then at most once per reconnectWarnEvery.
type failureLog struct {
	since, warned time.Time // zero: not failing / never warned
}

// ok records a success, ending the failure streak.
func (f *failureLog) ok() { *f = failureLog{} }

// failed records a failure at now and reports whether to log it at Warn.
func (f *failureLog) failed(now time.Time) bool {
	if f.since.IsZero() {
		f.since = now
	}
	if now.Sub(f.since) < reconnectWarnEvery || (!f.warned.IsZero() && now.Sub(f.warned) < reconnectWarnEvery) {
		return false
	}
	f.warned = now
	return true
}
