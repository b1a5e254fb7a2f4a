package durabletest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// Versioned takes the path its version says.
func Versioned(ctx context.Context) ([]int, error) {
	a := durable.Version(ctx, "pricing", durable.DefaultVersion, 2)
	b := durable.Version(ctx, "shipping", 1, 3)
	return []int{a, b}, nil
}

func TestOnGetVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		mock func(env *durabletest.Env)
		want []int
	}{
		{"NoMockGetsMax", func(*durabletest.Env) {}, []int{2, 3}},
		{"OneChange", func(env *durabletest.Env) {
			env.OnGetVersion("pricing", durable.DefaultVersion, 2).Return(durable.DefaultVersion)
		}, []int{durable.DefaultVersion, 3}},
		{"AnyChange", func(env *durabletest.Env) {
			env.OnGetVersion(durabletest.Anything, 1, 3).Return(1)
		}, []int{2, 1}},
		{"OtherRangeDoesNotMatch", func(env *durabletest.Env) {
			env.OnGetVersion("pricing", 0, 2).Return(0)
		}, []int{2, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := durabletest.NewEnv(t)
			c.mock(env)
			env.ExecuteWorkflow(Versioned)
			var got []int
			require.NoError(t, env.GetWorkflowResult(&got))
			require.Equal(t, c.want, got)
		})
	}
}
