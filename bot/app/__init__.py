"""One ticketbot process: the runtime that wires surfaces and roles together, its HTTP app
and its periodic jobs."""
