package temporal

// Suite lists every rule in the order it runs. Rules that rewrite calls run
// before the ones that retarget types (context), and unrecognised, which
// marks every Temporal reference left, runs last.
var Suite = []rule{
	telemetryRule,
	propagatorsRule,
	unsupportedRule,
	activityRule,
	childRule,
	timerRule,
	sideEffectRule,
	signalRule,
	coroutineRule,
	sessionRule,
	selectorRule,
	optionsRule,
	retryRule,
	continueAsNewRule,
	versionRule,
	queryRule,
	updateRule,
	cancelRule,
	errorsRule,
	loggerRule,
	infoRule,
	activityHelpersRule,
	mocksRule,
	dynamicRule,
	// After the rules that convert what the interceptors given to
	// worker.New hold, which move to durable.Open.
	interceptorRule,
	workerRule,
	replayerRule,
	starterRule,
	testsuiteRule,
	codecRule,
	contextRule,
	unrecognisedRule,
}

// RuleDoc is the name and title of one rule, for help output.
type RuleDoc struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
}

// Rules describes the Suite.
func Rules() []RuleDoc {
	out := make([]RuleDoc, len(Suite))
	for i, r := range Suite {
		out[i] = RuleDoc{r.Name, r.Doc}
	}
	return out
}
