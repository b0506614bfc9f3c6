// Package pgerror attaches PostgreSQL SQLSTATE codes (and an optional
// position, detail and hint) to errors anywhere in the chain. Only the wire
// boundary (server/pgwire) flattens a chain into an ErrorResponse: the
// outermost code wins; an error without a code is an internal error, XX000.
package pgerror

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by Longboat.
const (
	CodeSuccessfulCompletion   = "00000"
	CodeProtocolViolation      = "08P01"
	CodeFeatureNotSupported    = "0A000"
	CodeCardinalityViolation   = "21000"
	CodeDataException          = "22000"
	CodeNumericOutOfRange      = "22003"
	CodeDatetimeFieldOverflow  = "22008"
	CodeInvalidDatetimeFormat  = "22007"
	CodeDivisionByZero         = "22012"
	CodeInvalidParameterValue  = "22023"
	CodeInvalidTextRep         = "22P02"
	CodeStringDataRightTrunc   = "22001"
	CodeNotNullViolation       = "23502"
	CodeInvalidCursorName      = "34000"
	CodeInvalidSQLStatementNm  = "26000"
	CodeInFailedTransaction    = "25P02"
	CodeActiveSQLTransaction   = "25001"
	CodeNoActiveSQLTransaction = "25P01"
	CodeInvalidAuthorization   = "28000"
	CodeInvalidPassword        = "28P01"
	CodeSerializationFailure   = "40001"
	CodeStatementCompletionUnk = "40003"
	CodeSyntaxError            = "42601"
	CodeInsufficientPrivilege  = "42501"
	CodeUndefinedColumn        = "42703"
	CodeUndefinedFunction      = "42883"
	CodeUndefinedTable         = "42P01"
	CodeUndefinedObject        = "42704"
	CodeDuplicateTable         = "42P07"
	CodeDuplicateDatabase      = "42P04"
	CodeDuplicatePreparedStmt  = "42P05"
	CodeDuplicateColumn        = "42701"
	CodeAmbiguousColumn        = "42702"
	CodeGroupingError          = "42803"
	CodeWindowingError         = "42P20"
	CodeWrongObjectType        = "42809"
	CodeAmbiguousFunction      = "42725"
	CodeDatatypeMismatch       = "42804"
	CodeUndefinedParameter     = "42P02"
	CodeInvalidColumnRef       = "42P10"
	CodeInvalidTableDefinition = "42P16"
	CodeInvalidDatabaseDef     = "42P12"
	CodeInvalidCatalogName     = "3D000"
	CodeIndeterminateDatatype  = "42P18"
	CodeTooManyColumns         = "54011"
	CodeProgramLimitExceeded   = "54000"
	CodeQueryCanceled          = "57014"
	CodeAdminShutdown          = "57P01"
	CodeCannotConnectNow       = "57P03"
	CodeIOError                = "58030"
	CodeConfigFile             = "F0000"
	CodeInternal               = "XX000"
	CodeOutOfMemory            = "53200"
	CodeUnavailable            = "57P03"
)

// Error is an error with a SQLSTATE code.
type Error struct {
	Code     string
	Message  string
	Detail   string
	Hint     string
	Position int // 1-based character position in the statement text; 0 = none
	cause    error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// New returns an error with code and message.
func New(code, msg string) error { return &Error{Code: code, Message: msg} }

// Newf returns an error with code and a formatted message.
func Newf(code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches code to err; the message is err's message. A nil err stays nil.
func Wrap(err error, code string) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: err.Error(), cause: err}
}

// Wrapf attaches code to err with a message prefix: "<prefix>: <err>".
func Wrapf(err error, code, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + err.Error(), cause: err}
}

// WithPosition returns err with a 1-based statement position attached. If err
// already carries a position it is kept.
func WithPosition(err error, pos int) error {
	var pe *Error
	if errors.As(err, &pe) {
		if pe.Position != 0 {
			return err
		}
		cp := *pe
		cp.Position = pos
		return &cp
	}
	return &Error{Code: CodeInternal, Message: err.Error(), Position: pos, cause: err}
}

// WithDetail returns err with a detail line attached.
func WithDetail(err error, detail string) error {
	e := Flatten(err)
	e.Detail = detail
	e.cause = err
	return e
}

// WithHint returns err with a hint attached.
func WithHint(err error, hint string) error {
	e := Flatten(err)
	e.Hint = hint
	e.cause = err
	return e
}

// Code returns the SQLSTATE of err: the outermost code in the chain, or
// XX000 if none (and "" for a nil error).
func Code(err error) string {
	if err == nil {
		return ""
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CodeInternal
}

// Flatten turns any error into a wire-ready *Error: the outermost coded error
// in the chain supplies code, detail, hint and position; the message is the
// full chain's message. Errors without a code become XX000.
func Flatten(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return &Error{Code: pe.Code, Message: err.Error(), Detail: pe.Detail, Hint: pe.Hint, Position: pe.Position, cause: pe.cause}
	}
	return &Error{Code: CodeInternal, Message: err.Error(), cause: err}
}

// Unsupported returns a 0A000 error naming the construct.
func Unsupported(construct string) error {
	return &Error{Code: CodeFeatureNotSupported, Message: construct + " is not supported"}
}
