package spec

import (
	"reflect"
	"sync"

	"github.com/hashicorp/hcl/v2"
)

// KeptSize estimates the bytes of memory v keeps alive: the value v points
// to, and everything reachable from it through pointers, slices, maps,
// interfaces and strings. The file name inside an hcl.Range is not counted:
// every range of a file shares the one string. LoadDir sums it over the
// parsed specs to bound what a repository may hold (MaxParsedBytes).
//
// It walks v by reflection, so it needs no change when the types of the
// language do; shared pointers are counted each time (an over-estimate),
// and the walk stops 32 levels deep.
func KeptSize(v any) int64 {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return 0
	}
	return int64(rv.Type().Size()) + owned(rv, 0)
}

var rangeType = reflect.TypeFor[hcl.Range]()

// flat caches, per type, whether a value of the type owns no memory
// outside its own bytes (no pointer, string, slice, map or interface
// inside), so that the walk skips it.
var flat sync.Map // reflect.Type → bool

func isFlat(t reflect.Type) bool {
	if f, ok := flat.Load(t); ok {
		return f.(bool)
	}
	var f bool
	switch t.Kind() {
	case reflect.Struct:
		f = true
		for i := range t.NumField() {
			if !isFlat(t.Field(i).Type) {
				f = false
				break
			}
		}
	case reflect.Array:
		f = isFlat(t.Elem())
	case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface,
		reflect.Chan, reflect.Func, reflect.UnsafePointer:
		f = false
	default:
		f = true
	}
	flat.Store(t, f)
	return f
}

// owned returns the bytes v owns outside its own Type().Size().
func owned(v reflect.Value, depth int) int64 {
	t := v.Type()
	if depth > 32 || t == rangeType || isFlat(t) {
		return 0
	}
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return int64(t.Elem().Size()) + owned(v.Elem(), depth+1)
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		return int64(e.Type().Size()) + owned(e, depth+1)
	case reflect.Slice:
		n := int64(v.Cap()) * int64(t.Elem().Size())
		for i := range v.Len() {
			n += owned(v.Index(i), depth+1)
		}
		return n
	case reflect.Map:
		// A bucket entry holds the key and the value, with about as much
		// again of overhead.
		n := int64(v.Len()) * 2 * int64(t.Key().Size()+t.Elem().Size())
		it := v.MapRange()
		for it.Next() {
			n += owned(it.Key(), depth+1) + owned(it.Value(), depth+1)
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += owned(v.Field(i), depth+1)
		}
		return n
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += owned(v.Index(i), depth+1)
		}
		return n
	}
	return 0
}
