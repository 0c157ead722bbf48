package spec

// Limits lets the tests of package spec_test lower the bounds of LoadDir.
var Limits = &limits
