package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawConn is one keep-alive HTTP/1.1 connection driven by hand: requests
// are written as prepared bytes and responses read with just enough
// parsing to get the status and the body. net/http's client costs about
// 100 µs of CPU per request here (header maps, a goroutine hop per
// connection, a per-request context), as much as the server's own work, so
// on a shared 2-core machine it, not the server, set the measured rate.
//
// It speaks only what scimbridge (net/http's server) answers: a status
// line, headers, and a body sized by Content-Length or chunked.
type rawConn struct {
	addr     string
	deadline time.Time
	nc       net.Conn
	br       *bufio.Reader
	body     []byte // the last response's body; reused
}

func newRawConn(addr string) *rawConn { return &rawConn{addr: addr} }

// setDeadline bounds every later read and write (a phase's end plus
// grace): a hung server must not hang the tool.
func (c *rawConn) setDeadline(t time.Time) {
	c.deadline = t
	if c.nc != nil {
		_ = c.nc.SetDeadline(t)
	}
}

func (c *rawConn) close() {
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc = nil
	}
}

// roundTrip sends req (a whole HTTP/1.1 request) and reads the response.
// The body returned is valid until the next call. On any error the
// connection is dropped; the next call dials again.
func (c *rawConn) roundTrip(req []byte) (status int, body []byte, err error) {
	if c.nc == nil {
		nc, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
		if err != nil {
			return 0, nil, err
		}
		if !c.deadline.IsZero() {
			_ = nc.SetDeadline(c.deadline)
		}
		c.nc = nc
		if c.br == nil {
			c.br = bufio.NewReaderSize(nc, 64<<10)
		} else {
			c.br.Reset(nc)
		}
	}
	if _, err := c.nc.Write(req); err != nil {
		c.close()
		return 0, nil, err
	}
	status, body, keep, err := c.readResponse()
	if err != nil || !keep {
		c.close()
	}
	return status, body, err
}

var errMalformed = errors.New("malformed HTTP response")

func (c *rawConn) readResponse() (status int, body []byte, keepAlive bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, errMalformed
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, errMalformed
	}
	length, chunked, keepAlive := -1, false, line[7] == '1'
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, false, errMalformed
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return 0, nil, false, errMalformed
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			if bytes.EqualFold(v, []byte("close")) {
				keepAlive = false
			} else if bytes.EqualFold(v, []byte("keep-alive")) {
				keepAlive = true
			}
		}
	}
	c.body = c.body[:0]
	switch {
	case status == 204 || status == 304 || status/100 == 1:
	case chunked:
		if err := c.readChunked(); err != nil {
			return 0, nil, false, err
		}
	case length >= 0:
		if err := c.readN(length); err != nil {
			return 0, nil, false, err
		}
	default:
		// No length: the body runs to the end of the connection.
		b, err := io.ReadAll(c.br)
		if err != nil {
			return 0, nil, false, err
		}
		c.body, keepAlive = append(c.body, b...), false
	}
	return status, c.body, keepAlive, nil
}

// readN appends the next n bytes to c.body.
func (c *rawConn) readN(n int) error {
	if n > 64<<20 {
		return fmt.Errorf("response body of %d bytes: too large", n)
	}
	start := len(c.body)
	c.body = append(c.body, make([]byte, n)...)[:start+n]
	_, err := io.ReadFull(c.br, c.body[start:])
	return err
}

func (c *rawConn) readChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 {
			return errMalformed
		}
		if n == 0 {
			break
		}
		if len(c.body)+int(n) > 64<<20 {
			return errors.New("response body too large")
		}
		if err := c.readN(int(n)); err != nil {
			return err
		}
		if crlf, err := c.br.ReadSlice('\n'); err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return errMalformed
		}
	}
	// Trailers, up to the blank line.
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}
