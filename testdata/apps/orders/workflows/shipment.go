package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// ShipmentWorkflow packs the parcels one by one and returns a tracking code.
func ShipmentWorkflow(ctx workflow.Context, orderID string, parcels int) (string, error) {
	for i := 0; i < parcels; i++ {
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("TRACK-%s-%d", orderID, parcels), nil
}
