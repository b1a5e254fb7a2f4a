package temporal

// retryRule converts temporal.RetryPolicy to durable.RetryPolicy;
// MaximumAttempts becomes an int.
var retryRule = rule{
	Name: "retry",
	Doc:  "retry policies to durable.RetryPolicy",
	Run: func(p *pass) {
		p.convertStruct(structMap{path: pkgTemporal, name: "RetryPolicy", to: target{DurablePath, "RetryPolicy"}, anchor: "options-fields",
			fields: map[string]string{
				"InitialInterval": "InitialInterval", "BackoffCoefficient": "BackoffCoefficient", "MaximumInterval": "MaximumInterval",
				"MaximumAttempts": "MaximumAttempts", "NonRetryableErrorTypes": "NonRetryableErrorTypes",
			},
			int32: map[string]bool{"MaximumAttempts": true}})
	},
}
