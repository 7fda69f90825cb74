package wire

import (
	"io"
	"net"
	"testing"
	"time"
)

// Issue 8: "connections per peer" are bounded. Past max connections from
// one IP address, a new one is closed as soon as it is accepted; once one
// closes, the next is accepted again.
func TestLimitPerHost(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitPerHost(raw, 2)
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closedByServer := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF
	}
	dial()
	dial()
	first := <-accepted
	<-accepted
	if third := dial(); !closedByServer(third) {
		t.Fatal("a third connection from the same host was kept")
	}
	first.Close()
	fourth := dial()
	select {
	case c := <-accepted:
		c.Write([]byte("x"))
		fourth.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := fourth.Read(make([]byte, 1)); err != nil {
			t.Fatalf("the connection after one closed: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no connection accepted after one closed")
	}
}
