// Command starter places an order, approves it and prints the outcome.
package main

import (
	"context"
	"log"

	"go.temporal.io/sdk/client"

	"example.com/apps/orders/activities"
	"example.com/apps/orders/workflows"
)

func main() {
	c, err := client.Dial(client.Options{})
	if err != nil {
		log.Fatalln("unable to create client", err)
	}
	defer c.Close()

	ctx := context.Background()
	order := activities.Order{ID: "o-42", Items: []string{"tea"}, Amount: 5}
	opts := client.StartWorkflowOptions{ID: "order-" + order.ID, TaskQueue: workflows.TaskQueue}
	run, err := c.ExecuteWorkflow(ctx, opts, workflows.OrderWorkflow, order)
	if err != nil {
		log.Fatalln("unable to execute workflow", err)
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), "", "approve", map[string]any{"By": "starter", "OK": true}); err != nil {
		log.Fatalln("unable to signal workflow", err)
	}
	var st workflows.Status
	if err := run.Get(ctx, &st); err != nil {
		log.Fatalln("unable to get workflow result", err)
	}
	log.Println("order", order.ID, st.State, st.Receipt)
}
