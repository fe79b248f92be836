"""The transfer engine: drivers, single-file copies, a pure planner, the scheduler, retries.

Layered the way rclone is (STYLE.md convention 13): `drivers` do I/O, `operations.copy_one`
makes one verified copy, `plan` compares two sorted listings, `engine` runs a job with bounded
concurrency and checkpoints, `accounting` keeps the counters and `retry` classifies errors and
decides the backoff. The engine is synchronous and runs its I/O in threads: boto3 and POSIX
calls block, and a server runs a whole job in a worker thread.
"""
