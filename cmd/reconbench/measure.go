package main

import (
	"bufio"
	"bytes"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is this process's peak resident set in bytes (VmHWM in
// /proc/self/status), or -1 where there is no such file.
func vmHWM() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	return parseStatusKB(data, "VmHWM:")
}

// parseStatusKB reads a "Key:   123 kB" line of /proc/PID/status as bytes;
// -1 when the key is missing or malformed.
func parseStatusKB(status []byte, key string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key)
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return -1
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || n < 0 {
			return -1
		}
		return n << 10
	}
	return -1
}

// heapObjects is the runtime metric sampled for the peak heap: bytes of
// live and not yet swept heap objects (what runtime.MemStats calls
// HeapAlloc), read without stopping the world.
const heapObjects = "/memory/classes/heap/objects:bytes"

// sampleHeap records the largest heap seen into *peak every 10 ms until the
// returned stop is called (stop waits for the sampler to end). With
// profile set, each time the heap grows 10% past the last profiled size a
// heap profile is taken, so the last one kept shows (as of the GC before
// it) what the peak was made of.
func sampleHeap(peak *uint64, profile *bytes.Buffer) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := []metrics.Sample{{Name: heapObjects}}
	var profiled uint64
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		v := sample[0].Value.Uint64()
		*peak = max(*peak, v)
		if profile != nil && v > profiled+profiled/10 && v > 32<<20 {
			profiled = v
			profile.Reset()
			_ = pprof.Lookup("heap").WriteTo(profile, 0)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		read()
	}
}
