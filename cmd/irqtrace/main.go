package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "irqtrace: %v\n", err)
		os.Exit(exitCode(err))
	}
}
