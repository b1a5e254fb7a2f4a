package durabletest

// TemporalTestCron gives cron schedules (durable.StartOptions.CronSchedule,
// durable.ChildOptions.CronSchedule) the meaning of Temporal's test
// environment under this clock: a cron run starts at once rather than at
// its first schedule time; the workflow under test (ExecuteWorkflow) runs
// once and reports; a cron child's later runs follow its schedule on the
// test clock, each reading the last completion result.
func (c *Clock) TemporalTestCron() bool { return true }
