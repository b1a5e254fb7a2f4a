// Command migrate converts Temporal Go code to the durable runtime.
package main

func main() { exit(newRootCmd().Execute()) }
