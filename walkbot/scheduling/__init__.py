"""Jobs: walk cues as APScheduler date jobs, rebuilt from the walk rows at start-up."""
