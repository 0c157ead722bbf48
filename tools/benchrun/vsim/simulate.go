package vsim

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/raxx-app/handoff/internal/provider/pace"
)

// Config is what Simulate measures.
type Config struct {
	// Dir is the scratch directory (repositories, keys, state).
	Dir string
	// Latency is added to every request (20 ms).
	Latency time.Duration
	// Creates are the sizes of the create-applies at the vendors' default
	// limits (10 and 1,000); the largest gives the lease's upkeep.
	Creates []int
	// Examples is a directory holding handoff.hcl and specs/, one spec per
	// surface (internal/apply/testdata/repo): the requests of a handoff of
	// each. Empty skips them.
	Examples string
	// DayTarget is the number of live handoffs the day should hold (10,000);
	// the day holds the least of it, DayMax and 90 % of the ceiling. Zero
	// skips the day.
	DayTarget, DayMax int
	// DayFraction is the share of the ceiling the day holds (0.9).
	DayFraction float64
	// Slot and Slots: the schedule (15 min, 96).
	Slot  time.Duration
	Slots int
	// Log receives progress lines (nil: none).
	Log io.Writer
}

// Output is everything Simulate measured, as tools/benchrun reads it.
type Output struct {
	Latency time.Duration `json:"latency"`
	// Limits is the limits profile of the default-limits worlds.
	Limits string `json:"limits"`
	// Calibration is the benchmark spec's lifecycle (WriteRepo's spec),
	// from which the ceiling is computed.
	Calibration SurfaceCost `json:"calibration"`
	// Creates are the create-applies at the default limits.
	Creates []CreateResult `json:"creates"`
	// Upkeep is the lease's requests per hour of a run, measured on the
	// largest create.
	Upkeep []pace.Stat `json:"upkeep"`
	// Surfaces is one handoff of each example spec.
	Surfaces []SurfaceCost `json:"surfaces"`
	// Ceiling is the most live handoffs the schedule can keep refreshed.
	Ceiling Ceiling `json:"ceiling"`
	// DayTarget is the day's target; Day the day (nil when skipped).
	DayTarget   int        `json:"day_target"`
	DayMax      int        `json:"day_max,omitempty"`
	DayFraction float64    `json:"day_fraction"`
	Day         *DayResult `json:"day,omitempty"`
	// DayError says why the day of DayHandoffs could not run.
	DayError    string `json:"day_error,omitempty"`
	DayHandoffs int    `json:"day_handoffs,omitempty"`
	// Announced are budgets the servers announced that the models know
	// only from their headers.
	Announced []AnnouncedCount `json:"announced"`
	// CPU and RealWall are the whole simulation's.
	CPU      time.Duration `json:"cpu"`
	RealWall time.Duration `json:"real_wall"`
}

// Simulate runs every scenario of cfg. It must run inside a synctest
// bubble.
func Simulate(ctx context.Context, cfg Config) (Output, error) {
	out := Output{Latency: cfg.Latency, DayTarget: cfg.DayTarget, DayMax: cfg.DayMax, DayFraction: cfg.DayFraction}
	// A bubble's clock starts in 2000: years behind the wall clock.
	if !time.Now().Before(realNow().AddDate(-1, 0, 0)) {
		return out, errNoBubble
	}
	cpu0, real0 := CPUTime(), realNow()
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	if cfg.DayFraction <= 0 {
		cfg.DayFraction = 0.9
	}
	out.DayFraction = cfg.DayFraction

	// The benchmark spec's own lifecycle: the request mix of the day.
	cal, err := Lifecycle(ctx, filepath.Join(cfg.Dir, "calibration"), ConfigHCL, SpecHCL(0), cfg.Latency)
	if err != nil {
		return out, err
	}
	out.Calibration, out.Limits = cal, cal.Limits
	logf("vsim: calibration: a handoff of %s costs %d requests to create, %d to refresh, %d to revoke",
		cal.Spec, sumRequests(cal.Create), sumRequests(cal.Refresh), sumRequests(cal.Revoke))

	for _, n := range cfg.Creates {
		c, err := Create(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("create-%d", n)), n, cfg.Latency, false)
		if err != nil {
			return out, err
		}
		out.Creates = append(out.Creates, c)
		logf("vsim: create %d at %s: %s virtual (bound %s, ×%.3f), %s CPU, %d failed, %d requests, %d waits",
			n, c.Limits, c.Virtual.Round(time.Second), c.Bound.Minimum.Round(time.Second), c.Ratio, c.CPU.Round(time.Millisecond),
			c.Failed, c.Totals.Requests, c.Totals.Waits)
	}
	if len(out.Creates) > 0 {
		largest := out.Creates[0]
		for _, c := range out.Creates {
			if c.N > largest.N {
				largest = c
			}
		}
		out.Upkeep = Upkeep(largest, cal.Create, cal.CreateRun)
		out.Announced = largest.Announced
	}

	if cfg.Examples != "" {
		config, specs, err := ExampleSpecs(cfg.Examples)
		if err != nil {
			return out, err
		}
		for i, src := range specs {
			sc, err := Lifecycle(ctx, filepath.Join(cfg.Dir, fmt.Sprintf("surface-%d", i)), config, src, cfg.Latency)
			if err != nil {
				return out, err
			}
			out.Surfaces = append(out.Surfaces, sc)
			logf("vsim: surfaces %v (%s): create %d, refresh %d, revoke %d requests", sc.Surfaces, sc.Spec,
				sumRequests(sc.Create), sumRequests(sc.Refresh), sumRequests(sc.Revoke))
		}
	}

	out.Ceiling = CeilingOf(CeilingInput{Models: cal.Models, Refresh: cal.Refresh, Create: cal.Create, Revoke: cal.Revoke,
		Run: cal.CreateRun, Upkeep: out.Upkeep, Lifetime: cal.Lifetime, Slot: cfg.Slot})
	logf("vsim: ceiling: %d live handoffs (refresh only), %d with a daily replacement; binding: %s",
		out.Ceiling.Handoffs, out.Ceiling.WithReplacement, out.Ceiling.Binding)

	if cfg.DayTarget > 0 && cfg.Slots > 0 && cfg.Slot > 0 {
		n := cfg.DayTarget
		if c := out.Ceiling.Handoffs; c >= 0 && float64(n) > float64(c)*cfg.DayFraction {
			n = int(float64(c) * cfg.DayFraction)
		}
		if cfg.DayMax > 0 && n > cfg.DayMax {
			n = cfg.DayMax
		}
		if n < 1 {
			n = 1
		}
		logf("vsim: day: %d live handoffs, an apply every %s, %d runs", n, cfg.Slot, cfg.Slots)
		d, err := Day(ctx, filepath.Join(cfg.Dir, "day"), DayOptions{Handoffs: n, Slot: cfg.Slot, Slots: cfg.Slots, Latency: cfg.Latency, Log: cfg.Log})
		if err != nil {
			// A day the engine cannot run (a repository too large to load,
			// a setup that fails) is a figure too: the report says why.
			out.DayHandoffs, out.DayError = n, err.Error()
			logf("vsim: day: %v", err)
		} else {
			out.Day = &d
		}
	}
	out.CPU, out.RealWall = CPUTime()-cpu0, realNow().Sub(real0)
	return out, nil
}

func sumRequests(stats []pace.Stat) int64 {
	var n int64
	for _, s := range stats {
		n += s.Requests
	}
	return n
}
