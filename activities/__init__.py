"""Every side effect of the process: calendar, persistence, notifications."""
