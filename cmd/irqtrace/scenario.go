package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/internal/scenario"
)

// newScenarioCmd is a hidden command that writes the rules' ground-truth
// traces: synthetic ftrace text for each failure mode and its clean
// look-alike, with the findings a correct analyzer must report.
func newScenarioCmd() *cobra.Command {
	var (
		seed   uint64
		out    string
		labels bool
	)
	cmd := &cobra.Command{
		Use:    "scenario [NAME] [--seed N] [-o FILE] [--labels]",
		Short:  "Write a synthetic trace of a failure mode (ground truth for the rules)",
		Hidden: true,
		Long: `scenario without NAME lists the generators. With NAME it writes the
generated ftrace text to -o FILE (default stdout); --labels prints the
scenario's expected findings as JSON on stderr. The traces are synthetic:
they follow the 6.1 kernel's event sequences but were not recorded.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				for _, g := range scenario.Catalog {
					fmt.Fprintln(cmd.OutOrStdout(), g.Name)
				}
				return nil
			}
			return runScenario(args[0], seed, out, labels, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "generator seed")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the trace to this file")
	cmd.Flags().BoolVar(&labels, "labels", false, "print the expected findings as JSON on stderr")
	return cmd
}

func runScenario(name string, seed uint64, out string, labels bool, stdout, stderr io.Writer) error {
	s, err := scenario.ByName(name, seed)
	if err != nil {
		var names []string
		for _, g := range scenario.Catalog {
			names = append(names, g.Name)
		}
		return usageErrorf("scenario %q: %v (have: %s)", name, err, strings.Join(names, ", "))
	}
	if out == "" {
		if _, err := stdout.Write(s.Text); err != nil {
			return err
		}
	} else if err := os.WriteFile(out, s.Text, 0o644); err != nil {
		return err
	}
	if labels {
		enc := json.NewEncoder(stderr)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return nil
}
