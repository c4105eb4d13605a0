"""APScheduler 3.x wiring for settlewatch (the scheduler service)."""
