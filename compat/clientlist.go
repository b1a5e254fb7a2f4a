package compat

import (
	"bytes"
	"context"
	"fmt"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
)

// Page tokens of Client.ListWorkflow say which side the next page comes
// from: Temporal's pages first, then the durable side's.
var (
	temporalPage = []byte("temporal:")
	durablePage  = []byte("durable:")
)

// ListWorkflow lists the executions that match the request's visibility
// query on both sides, so dashboards and tools built on Temporal's list
// see every run during a cut-over: Temporal's pages first, then the
// durable runs (see the function ListWorkflow for the query language
// there). NextPageToken continues across the two.
func (c *Client) ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	tok := req.GetNextPageToken()
	if rest, ok := bytes.CutPrefix(tok, durablePage); ok {
		return c.durablePage(ctx, req, rest)
	}
	treq := proto.Clone(req).(*workflowservice.ListWorkflowExecutionsRequest)
	treq.NextPageToken, _ = bytes.CutPrefix(tok, temporalPage)
	resp, err := c.Client.ListWorkflow(ctx, treq)
	if err != nil {
		return nil, err
	}
	if len(resp.GetNextPageToken()) > 0 {
		resp.NextPageToken = append(append([]byte(nil), temporalPage...), resp.NextPageToken...)
		return resp, nil
	}
	// Temporal's list is done: the durable runs follow, on this page when
	// it has room.
	room := int(req.GetPageSize()) - len(resp.GetExecutions())
	if req.GetPageSize() <= 0 {
		room = pageSizeDefault
	}
	if room <= 0 {
		resp.NextPageToken = append([]byte(nil), durablePage...)
		return resp, nil
	}
	dreq := proto.Clone(req).(*workflowservice.ListWorkflowExecutionsRequest)
	dreq.PageSize = int32(room)
	dresp, err := c.durablePage(ctx, dreq, nil)
	if err != nil {
		return nil, err
	}
	resp.Executions = append(resp.Executions, dresp.Executions...)
	resp.NextPageToken = dresp.NextPageToken
	return resp, nil
}

// durablePage is one page of the durable side's list; tok is the
// durable part of the page token.
func (c *Client) durablePage(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest, tok []byte) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	dreq := proto.Clone(req).(*workflowservice.ListWorkflowExecutionsRequest)
	dreq.NextPageToken = tok
	resp, err := ListWorkflow(ctx, c.engine, dreq)
	if err != nil {
		return nil, fmt.Errorf("compat: list durable runs: %w", err)
	}
	if len(resp.NextPageToken) > 0 {
		resp.NextPageToken = append(append([]byte(nil), durablePage...), resp.NextPageToken...)
	}
	return resp, nil
}

// CountWorkflow counts the executions that match the request's visibility
// query on both sides.
func (c *Client) CountWorkflow(ctx context.Context, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	resp, err := c.Client.CountWorkflow(ctx, req)
	if err != nil {
		return nil, err
	}
	d, err := CountWorkflow(ctx, c.engine, req)
	if err != nil {
		return nil, fmt.Errorf("compat: count durable runs: %w", err)
	}
	// Grouped counts (GROUP BY) are Temporal's alone; the total covers both.
	resp.Count += d.Count
	return resp, nil
}
