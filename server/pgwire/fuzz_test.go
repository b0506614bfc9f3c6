package pgwire

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

func encodeFrontend(msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		b, err = m.Encode(b)
		if err != nil {
			panic(err)
		}
	}
	return b
}

// FuzzConnStream feeds arbitrary bytes, after a valid StartupMessage, into
// a connection: the server must neither panic nor hang, and must close the
// connection when the client does.
func FuzzConnStream(f *testing.F) {
	f.Add(encodeFrontend(&pgproto3.Query{String: "select 1; select * from series(3)"}))
	f.Add(encodeFrontend(&pgproto3.Parse{Name: "a", Query: "select $1::int8"}, &pgproto3.Describe{ObjectType: 'S', Name: "a"},
		&pgproto3.Bind{PreparedStatement: "a", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Execute{}, &pgproto3.Sync{}))
	f.Add(encodeFrontend(&pgproto3.Query{String: "copy t from stdin"}, &pgproto3.CopyData{Data: []byte("1\t2\n")}, &pgproto3.CopyDone{}))
	f.Add(encodeFrontend(&pgproto3.Query{String: "begin"}, &pgproto3.Query{String: "error 22012"}, &pgproto3.Query{String: "commit"}))
	f.Add(encodeFrontend(&pgproto3.Query{String: "sleep"}))
	f.Add([]byte{'Q', 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{'B', 0, 0, 0, 8, 0, 0, 0xff, 0xff})
	f.Add(encodeFrontend(&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Terminate{}))

	h := newFakeHandler()
	// Drain the fake's notifications so "sleep" statements never block on them.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-h.sleeping:
			case <-h.woke:
			case <-stop:
				return
			}
		}
	}()
	srv, err := New(Config{Handler: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxMessageSize: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	startup := encodeFrontend(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "fuzz"}})

	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		var wg sync.WaitGroup
		if !srv.startConn(context.Background(), server, &wg) {
			t.Fatal("server closed")
		}
		go func() { _, _ = io.Copy(io.Discard, client) }()
		_ = client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = client.Write(startup)
		_, _ = client.Write(data)
		_ = client.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection did not end after the client closed")
		}
	})
}
