package runner

import (
	"os"
	"testing"

	"github.com/wrunc/wrunc/internal/testguests"
)

// guests is the directory of test guests built by testdata/build.sh.
var guests string

// The runner tests start this test binary as a container starts wrunc: with
// Marker as argv[1], its constructor runs the guest and exits before TestMain.
func TestMain(m *testing.M) {
	os.Exit(testguests.Main(m, &guests))
}
