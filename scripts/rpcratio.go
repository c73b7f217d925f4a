//go:build ignore

// Rpcratio reads the raw output of scripts/bench-rpc.sh and prints, for
// each adapter, what docs/BENCHMARKS.md checks against the targets,
// computed within each round (each round runs every implementation once,
// seconds apart, so a difference or a ratio pairs runs that saw the same
// machine load) and summarised by the median and range over the rounds:
// the time and allocations the adapter adds to the unprotected chain,
// less those of the Gate's Required (whose unprotected net/http handler
// costs nothing), and the peer's time over the adapter's. A second table
// takes each implementation's fastest round instead: on a loaded machine
// noise only adds time, so the minimum is the steadier estimate.
//
//	go run scripts/rpcratio.go docs/bench/grpc.txt docs/bench/connect.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
)

var line = regexp.MustCompile(`^(Benchmark[^/\s]+)/impl=(\S+?)(-\d+)?\s+\d+\s+([0-9.]+) ns/op(?:\s+\d+ B/op\s+(\d+) allocs/op)?`)

type result struct{ ns, allocs float64 }

// rounds reads a file and returns, per round, the results by benchmark
// and implementation. A round ends when a benchmark comes back.
func rounds(path string) []map[[2]string]result {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	var out []map[[2]string]result
	cur := map[[2]string]result{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		k := [2]string{m[1], m[2]}
		if _, seen := cur[k]; seen {
			out = append(out, cur)
			cur = map[[2]string]result{}
		}
		ns, _ := strconv.ParseFloat(m[4], 64)
		al, _ := strconv.ParseFloat(m[5], 64)
		cur[k] = result{ns, al}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func summary(vals []float64, format string) string {
	if len(vals) == 0 {
		return "n/a"
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return fmt.Sprintf(format+" ("+format+" to "+format+")", med, s[0], s[len(s)-1])
}

func main() {
	fmt.Println("| benchmark | (adapter − unprotected) − Required | allocs, the same | peer / adapter | rounds |")
	fmt.Println("|---|--:|--:|--:|--:|")
	for _, path := range os.Args[1:] {
		rs := rounds(path)
		for _, bench := range []string{"BenchmarkUnary", "BenchmarkStream"} {
			for _, pair := range [][2]string{{"grpcjwt", "go-grpc-middleware"}, {"connectjwt", "golang-jwt-interceptor"}} {
				var dt, da, ratio []float64
				for _, r := range rs {
					a, ok1 := r[[2]string{bench, pair[0]}]
					q, ok2 := r[[2]string{bench, "required"}]
					p, ok3 := r[[2]string{bench, pair[1]}]
					u, ok4 := r[[2]string{bench, "unprotected"}]
					if ok1 && ok2 && ok4 {
						dt = append(dt, (a.ns-u.ns-q.ns)/1000)
						da = append(da, a.allocs-u.allocs-q.allocs)
					}
					if ok1 && ok3 {
						ratio = append(ratio, p.ns/a.ns)
					}
				}
				if len(dt) == 0 {
					continue
				}
				fmt.Printf("| %s, %s | %s | %s | %s | %d |\n", bench, pair[0],
					summary(dt, "%+.2f µs"), summary(da, "%+.0f"), summary(ratio, "%.1f×"), len(dt))
			}
		}
	}
	fmt.Println()
	fmt.Println("| benchmark | fastest round: unprotected / adapter / Required / peer | adapter − unprotected − Required | peer / adapter |")
	fmt.Println("|---|--:|--:|--:|")
	for _, path := range os.Args[1:] {
		rs := rounds(path)
		for _, bench := range []string{"BenchmarkUnary", "BenchmarkStream"} {
			for _, pair := range [][2]string{{"grpcjwt", "go-grpc-middleware"}, {"connectjwt", "golang-jwt-interceptor"}} {
				best := func(impl string) float64 {
					m := 0.0
					for _, r := range rs {
						if v, ok := r[[2]string{bench, impl}]; ok && (m == 0 || v.ns < m) {
							m = v.ns
						}
					}
					return m
				}
				u, a, q, p := best("unprotected"), best(pair[0]), best("required"), best(pair[1])
				if a == 0 || q == 0 || p == 0 {
					continue
				}
				fmt.Printf("| %s, %s | %.3f / %.2f / %.2f / %.2f µs | %+.2f µs | %.1f× |\n", bench, pair[0],
					u/1000, a/1000, q/1000, p/1000, (a-u-q)/1000, p/a)
			}
		}
	}
}
