//go:build ignore

// Benchratio reads the raw output of scripts/bench-claims.sh and prints
// the ratios that docs/BENCHMARKS.md checks against the targets, computed
// within each round (each round runs every benchmark once, seconds apart,
// so a ratio pairs runs that saw the same machine load) and summarised by
// their median and range over the rounds:
//
//	go run scripts/benchratio.go docs/bench/claims.txt docs/bench/required.txt
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([0-9.]+) ns/op`)

// rounds reads the files and returns, per round, ns/op by benchmark name.
// A round ends when a name comes back.
func rounds(paths []string) []map[string]float64 {
	var out []map[string]float64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cur := map[string]float64{}
		i := 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			m := line.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			if _, seen := cur[m[1]]; seen {
				i++
				cur = map[string]float64{}
			}
			ns, _ := strconv.ParseFloat(m[3], 64)
			cur[m[1]] = ns
			for len(out) <= i {
				out = append(out, map[string]float64{})
			}
			out[i][m[1]] = ns
		}
		f.Close()
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
	return fmt.Sprintf(format+" (%d rounds: "+format+"–"+format+")", med, len(s), s[0], s[len(s)-1])
}

func main() {
	rs := rounds(os.Args[1:])
	each := func(f func(r map[string]float64) (float64, bool)) []float64 {
		var out []float64
		for _, r := range rs {
			if v, ok := f(r); ok {
				out = append(out, v)
			}
		}
		return out
	}
	ratio := func(a, b string) func(map[string]float64) (float64, bool) {
		return func(r map[string]float64) (float64, bool) {
			x, ok1 := r[a]
			y, ok2 := r[b]
			return x / y, ok1 && ok2 && y > 0
		}
	}
	minOf := func(r map[string]float64, names ...string) (float64, bool) {
		m := 0.0
		for _, n := range names {
			v, ok := r[n]
			if !ok {
				return 0, false
			}
			if m == 0 || v < m {
				m = v
			}
		}
		return m, true
	}
	fmt.Println("| ratio, per round | median (range) |")
	fmt.Println("|---|---|")
	for _, s := range []string{"0.3KB", "2KB", "7KB"} {
		p := "BenchmarkClaims/size=" + s + "/impl="
		fmt.Printf("| %s: verify+decode / registered-only verify | %s |\n", s, summary(each(ratio(p+"jwtgate-decode", p+"jwtgate")), "%.2f×"))
		fmt.Printf("| %s: fastest peer / verify+decode | %s |\n", s, summary(each(func(r map[string]float64) (float64, bool) {
			peer, ok := minOf(r, p+"cristalhq", p+"golang-jwt")
			d, ok2 := r[p+"jwtgate-decode"]
			return peer / d, ok && ok2
		}), "%.2f×"))
		fmt.Printf("| %s: registered-only verify / pooled floor | %s |\n", s, summary(each(ratio(p+"jwtgate", p+"floor")), "%.2f×"))
		fmt.Printf("| %s: registered-only verify into a pooled Token / pooled floor | %s |\n", s, summary(each(ratio(p+"jwtgate-pooled", p+"floor")), "%.2f×"))
		fmt.Printf("| %s: the same plus one new 256-byte token / pooled floor | %s |\n", s, summary(each(ratio(p+"jwtgate-pooled-new", p+"floor")), "%.2f×"))
	}
	for _, im := range []string{"jwtgate", "jwtgate-pooled", "jwtgate-pooled-new", "jwtgate-decode", "cristalhq", "golang-jwt", "floor"} {
		p := "BenchmarkParallel/impl=" + im + "/run="
		fmt.Printf("| parallel throughput / serial, %s | %s |\n", im, summary(each(ratio(p+"serial", p+"parallel")), "%.2f×"))
	}
	for _, k := range []string{"no-dots", "random-segments", "header-not-json", "short-signature"} {
		p := "BenchmarkGarbage/kind=" + k + "/impl="
		fmt.Printf("| garbage %s: fastest peer / jwtgate | %s |\n", k, summary(each(func(r map[string]float64) (float64, bool) {
			peer, ok := minOf(r, p+"cristalhq", p+"golang-jwt")
			j, ok2 := r[p+"jwtgate"]
			return peer / j, ok && ok2
		}), "%.2f×"))
	}
	fmt.Printf("| Required − bare verify | %s |\n", summary(each(func(r map[string]float64) (float64, bool) {
		a, ok1 := r["BenchmarkRequired/impl=required"]
		b, ok2 := r["BenchmarkRequired/impl=jwt-verify"]
		return (a - b) / 1000, ok1 && ok2
	}), "%.2f µs"))
}
