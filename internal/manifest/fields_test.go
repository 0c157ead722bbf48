package manifest

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/raxx-app/handoff/schema"
)

// TestSchemaPropertiesAreFields: every object of the schema that decodes
// into a struct forbids other properties, and its properties are exactly
// the struct's JSON fields. Parse relies on it to decode a manifest the
// fast check passed without the decoder's check of unknown fields, which
// then cannot fail.
func TestSchemaPropertiesAreFields(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(schema.ManifestJSONSchema, &root); err != nil {
		t.Fatal(err)
	}
	defs := root["$defs"].(map[string]any)
	objects := map[reflect.Type]map[string]any{
		reflect.TypeFor[Manifest]():   root,
		reflect.TypeFor[Revocation](): defs["revocation"].(map[string]any),
		reflect.TypeFor[Event]():      defs["event"].(map[string]any),
	}
	var reached []reflect.Type
	walkStructs(reflect.TypeFor[Manifest](), &reached)
	for _, typ := range reached {
		obj, ok := objects[typ]
		if !ok {
			t.Errorf("struct %v is decoded from a manifest but has no schema object in this test", typ)
			continue
		}
		if obj["additionalProperties"] != false {
			t.Errorf("the schema object of %v allows other properties", typ)
		}
		var props []string
		for k := range obj["properties"].(map[string]any) {
			props = append(props, k)
		}
		var fields []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.IsExported() && name != "-" {
				fields = append(fields, name)
			}
		}
		slices.Sort(props)
		slices.Sort(fields)
		if !slices.Equal(props, fields) {
			t.Errorf("%v: schema properties %v, struct fields %v", typ, props, fields)
		}
	}
	if len(reached) != len(objects) {
		t.Errorf("structs decoded from a manifest: %v, want those of %v", reached, objects)
	}
}

// walkStructs lists the struct types that encoding/json decodes field by
// field within t (not those that decode themselves, like time.Time).
func walkStructs(t reflect.Type, seen *[]reflect.Type) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		walkStructs(t.Elem(), seen)
	case reflect.Struct:
		if reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) || slices.Contains(*seen, t) {
			return
		}
		*seen = append(*seen, t)
		for f := range t.Fields() {
			walkStructs(f.Type, seen)
		}
	}
}
