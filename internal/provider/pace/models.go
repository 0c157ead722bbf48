package pace

import "sort"

// Models returns the models registered on the pacer (Register), sorted by
// vendor, with the defaults Register filled in (Margin, Headers). Reports
// use them with Stats to say what the limits allow: the lower bound a
// benchmark's requests impose, the ceiling of a schedule. The models are
// shared: do not modify them.
func (p *Pacer) Models() []Model {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Model, 0, len(p.vendors))
	for _, v := range p.vendors {
		out = append(out, v.model)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Vendor < out[j].Vendor })
	return out
}
