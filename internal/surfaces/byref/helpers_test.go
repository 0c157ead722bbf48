package byref_test

import (
	"encoding/json"

	"github.com/raxx-app/handoff/internal/surface"
)

func recordJSON(res surface.Result) (surface.Record, error) {
	b, err := json.Marshal(res.Record)
	return surface.Record(b), err
}
