// Command probe is a guest that reports what it sees of its WASI environment,
// driven by its arguments:
//
//	probe args | env | cwd | spin
//	probe write PATH CONTENT | read PATH | ls DIR
//	probe exit N | sleep SECONDS | grow MB
//
// spin and sleep print "ready" first, so that a test knows when to signal.
// Failures go to stderr with exit status 1.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if err := probe(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func probe(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: probe COMMAND [ARG...]")
	}
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch args[0] {
	case "args":
		for _, a := range os.Args {
			fmt.Println(a)
		}
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "cwd":
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		fmt.Println(wd)
	case "write":
		return os.WriteFile(arg(1), []byte(arg(2)), 0o644)
	case "read":
		b, err := os.ReadFile(arg(1))
		if err != nil {
			return err
		}
		os.Stdout.Write(b)
	case "ls":
		entries, err := os.ReadDir(arg(1))
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Println(e.Name())
		}
	case "exit":
		n, err := strconv.Atoi(arg(1))
		if err != nil {
			return err
		}
		os.Exit(n)
	case "spin":
		fmt.Println("ready")
		for n := 0; ; n++ {
			sink = n
		}
	case "sleep":
		d, err := time.ParseDuration(arg(1) + "s")
		if err != nil {
			return err
		}
		fmt.Println("ready")
		time.Sleep(d)
	case "grow":
		mb, err := strconv.Atoi(arg(1))
		if err != nil {
			return err
		}
		buf := make([]byte, mb<<20)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = 1
		}
		fmt.Println("ok")
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}

var sink int
