package rpc

import (
	"errors"
	"fmt"
	"strings"
	"time"

	pb "github.com/longboatdb/longboat/server/rpc/longboatpb"
	"github.com/longboatdb/longboat/sql/pgerror"
)

// codeInsufficientResources is SQLSTATE 53000, the code of a Busy reply.
const codeInsufficientResources = "53000"

// NotLeaderError says the callee's replica of ShardID is not the leader.
// Retry at LeaderAddr (empty when the callee does not know the leader).
type NotLeaderError struct {
	ShardID      uint64
	LeaderNodeID uint64
	LeaderAddr   string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return fmt.Sprintf("longboat/rpc: shard %d: not the leader (leader unknown)", e.ShardID)
	}
	return fmt.Sprintf("longboat/rpc: shard %d: not the leader (leader is node %d at %s)", e.ShardID, e.LeaderNodeID, e.LeaderAddr)
}

// WrongNodeError says the callee holds no replica of ShardID: the caller's
// partition table is stale. PartitionVersion is the callee's version; refresh
// to at least it and retry.
type WrongNodeError struct {
	ShardID          uint64
	PartitionVersion uint64
}

func (e *WrongNodeError) Error() string {
	return fmt.Sprintf("longboat/rpc: shard %d: no replica on this node (partition table version %d)", e.ShardID, e.PartitionVersion)
}

// BusyError says the callee is overloaded; back off for RetryAfter.
type BusyError struct {
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("longboat/rpc: node busy, retry after %v", e.RetryAfter)
}

// CatalogBehindError says the callee's catalog (version Have) is older than
// the caller's (Want) and did not catch up in time. Retry shortly or on
// another replica.
type CatalogBehindError struct {
	Have, Want uint64
}

func (e *CatalogBehindError) Error() string {
	return fmt.Sprintf("longboat/rpc: catalog version %d is behind the caller's %d", e.Have, e.Want)
}

// UnavailableError says the node at Addr could not be reached, or the
// connection broke during the call. For a write the outcome is unknown;
// writes are idempotent (same series and time: the later write wins), so
// the coordinator may retry.
type UnavailableError struct {
	Addr string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("longboat/rpc: node %s unavailable: %v", e.Addr, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrIncompatible is wrapped by errors for a peer that speaks another
// protocol version or belongs to another cluster.
var ErrIncompatible = errors.New("longboat/rpc: incompatible peer")

// IsRetryable reports whether err says the same request may succeed if sent
// again (after refreshing routing or backing off): NotLeader, WrongNode,
// Busy, CatalogBehind and Unavailable.
func IsRetryable(err error) bool {
	var (
		nl *NotLeaderError
		wn *WrongNodeError
		bz *BusyError
		cb *CatalogBehindError
		un *UnavailableError
	)
	return errors.As(err, &nl) || errors.As(err, &wn) || errors.As(err, &bz) || errors.As(err, &cb) || errors.As(err, &un)
}

// withCode attaches the SQLSTATE a typed error has when it reaches a client
// unhandled; errors.As still finds the typed error.
func withCode(err error) error {
	var bz *BusyError
	var un *UnavailableError
	switch {
	case errors.As(err, &bz):
		return pgerror.Wrap(err, codeInsufficientResources)
	case errors.As(err, &un):
		return pgerror.Wrap(err, pgerror.CodeUnavailable)
	default: // NotLeader, WrongNode, CatalogBehind: the statement may be retried
		return pgerror.Wrap(err, pgerror.CodeSerializationFailure)
	}
}

// faultOf turns a handler's error into its wire form.
func faultOf(err error) *pb.Fault {
	var (
		nl *NotLeaderError
		wn *WrongNodeError
		bz *BusyError
		cb *CatalogBehindError
	)
	switch {
	case errors.As(err, &nl):
		return &pb.Fault{Kind: &pb.Fault_NotLeader{NotLeader: &pb.NotLeader{
			ShardId: nl.ShardID, LeaderNodeId: nl.LeaderNodeID, LeaderRpcAddr: nl.LeaderAddr}}}
	case errors.As(err, &wn):
		return &pb.Fault{Kind: &pb.Fault_WrongNode{WrongNode: &pb.WrongNode{
			ShardId: wn.ShardID, PartitionVersion: wn.PartitionVersion}}}
	case errors.As(err, &bz):
		ms := bz.RetryAfter.Milliseconds()
		return &pb.Fault{Kind: &pb.Fault_Busy{Busy: &pb.Busy{RetryAfterMs: uint32(min(max(ms, 0), 1<<31))}}}
	case errors.As(err, &cb):
		return &pb.Fault{Kind: &pb.Fault_CatalogBehind{CatalogBehind: &pb.CatalogBehind{Have: cb.Have, Want: cb.Want}}}
	}
	fe := pgerror.Flatten(err)
	return &pb.Fault{Kind: &pb.Fault_Error{Error: &pb.Error{
		Sqlstate: fe.Code,
		// proto3 strings must be UTF-8; messages may quote user data.
		Message:  strings.ToValidUTF8(fe.Message, "\uFFFD"),
		Detail:   strings.ToValidUTF8(fe.Detail, "\uFFFD"),
		Hint:     strings.ToValidUTF8(fe.Hint, "\uFFFD"),
		Position: int32(min(max(fe.Position, 0), 1<<31-1)),
	}}}
}

// faultError turns a wire fault back into the error the handler returned:
// a typed error (with a SQLSTATE attached) or a *pgerror.Error.
func faultError(f *pb.Fault) error {
	switch k := f.GetKind().(type) {
	case *pb.Fault_NotLeader:
		return withCode(&NotLeaderError{ShardID: k.NotLeader.GetShardId(), LeaderNodeID: k.NotLeader.GetLeaderNodeId(), LeaderAddr: k.NotLeader.GetLeaderRpcAddr()})
	case *pb.Fault_WrongNode:
		return withCode(&WrongNodeError{ShardID: k.WrongNode.GetShardId(), PartitionVersion: k.WrongNode.GetPartitionVersion()})
	case *pb.Fault_Busy:
		return withCode(&BusyError{RetryAfter: time.Duration(k.Busy.GetRetryAfterMs()) * time.Millisecond})
	case *pb.Fault_CatalogBehind:
		return withCode(&CatalogBehindError{Have: k.CatalogBehind.GetHave(), Want: k.CatalogBehind.GetWant()})
	case *pb.Fault_Error:
		e := k.Error
		code := e.GetSqlstate()
		if !validSQLState(code) {
			code = pgerror.CodeInternal
		}
		return &pgerror.Error{Code: code, Message: e.GetMessage(), Detail: e.GetDetail(), Hint: e.GetHint(), Position: int(max(e.GetPosition(), 0))}
	default:
		return pgerror.Newf(pgerror.CodeProtocolViolation, "longboat/rpc: fault of unknown kind %T", k)
	}
}

// validSQLState reports whether s looks like a SQLSTATE: five digits or
// upper-case letters.
func validSQLState(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
