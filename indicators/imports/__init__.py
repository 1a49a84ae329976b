"""Measurement imports: queue (receive, enqueue, decide on a preview), run (read and write
a file in one transaction), inbox (the folder source systems drop files in) and sweep
(repair after dead workers and lost messages). indicators.tasks drives them."""
