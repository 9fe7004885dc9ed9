package atlassian_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
)

// pipeNet is a real net/http server reached over in-memory net.Pipe connections. Loopback TCP
// cannot be used inside a synctest bubble: goroutines blocked on socket I/O never count as
// durably blocked, so the fake clock would never advance.
type pipeNet struct {
	conns  chan net.Conn
	done   chan struct{}
	once   sync.Once
	srv    *http.Server
	client *http.Client
	mu     sync.Mutex
	dials  int
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

func (p *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

func (p *pipeNet) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

func (p *pipeNet) Addr() net.Addr { return pipeAddr{} }

func (p *pipeNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	p.mu.Lock()
	p.dials++
	p.mu.Unlock()
	c, s := net.Pipe()
	select {
	case p.conns <- s:
		return c, nil
	case <-p.done:
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: errors.New("connection refused")}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startPipeNet serves h; call the returned stop before the synctest bubble ends.
func startPipeNet(t *testing.T, h http.Handler) (*pipeNet, func()) {
	t.Helper()
	p := &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})}
	p.srv = &http.Server{Handler: h}
	tr := &http.Transport{DialContext: p.dial, MaxIdleConnsPerHost: 16}
	p.client = &http.Client{Transport: tr}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = p.srv.Serve(p)
	}()
	return p, func() {
		tr.CloseIdleConnections()
		_ = p.srv.Close()
		<-served
	}
}

func (p *pipeNet) dialCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}
