"""Engine: inventory to targets, runs, stores and reports. Uses transport, facts and modules below it."""
