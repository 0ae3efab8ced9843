package wasm

import (
	"os"
	"testing"

	"github.com/wrunc/wrunc/internal/testguests"
)

// guests is the directory of test guests built by testdata/build.sh.
var guests string

func TestMain(m *testing.M) {
	os.Exit(testguests.Main(m, &guests))
}
