package raftsm

import (
	"testing"

	sm "github.com/lni/dragonboat/v4/statemachine"

	"github.com/longboatdb/longboat/sql/pgerror"
)

// TestDataResultError: only the data state machine's explicit OK is an
// applied write; a zero Result (no answer from our Update) is an error of
// unknown outcome, never a success.
func TestDataResultError(t *testing.T) {
	if err := dataResultError(1, sm.Result{Value: resultOK}); err != nil {
		t.Fatalf("resultOK: %v", err)
	}
	for _, tc := range []struct {
		res  sm.Result
		code string
	}{
		{sm.Result{}, pgerror.CodeStatementCompletionUnk},
		{sm.Result{Value: resultRejected, Data: []byte("x")}, pgerror.CodeDataException},
		{sm.Result{Value: resultBadCommand, Data: []byte("y")}, pgerror.CodeInternal},
	} {
		if err := dataResultError(1, tc.res); pgerror.Code(err) != tc.code {
			t.Errorf("%+v: %v (code %s), want %s", tc.res, err, pgerror.Code(err), tc.code)
		}
	}
}
