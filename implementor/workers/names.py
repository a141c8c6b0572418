"""Every Celery task and queue name of ours, in one place: the app routes by them, the tasks register
under them, and the client, the beat schedule, the healthchecks and the benchmarks send to them.

A task's name is part of the wire format: a job already on the queue is delivered by name, so a name
never changes between versions that share a broker.
"""

from __future__ import annotations

GPU_QUEUE = "gpu"  # model work: introduce and project (a CPU worker consumes it too)
CPU_QUEUE = "cpu"  # Celery's default queue here: anything not routed
LEARN_QUEUE = "learn"  # harvesting and retraining: one learner process

INTRODUCE_TASK = "implementor.introduce"
PROJECT_TASK = "implementor.project"
PING_TASK = "implementor.ping"  # a cheap round trip: healthchecks and the queue benchmark
HARVEST_TASK = "implementor.harvest"
LEARN_TASK = "implementor.learn"
FORGET_TASK = "implementor.forget"  # remove opted-out members' rows from the harvested sets (the bot asks)

MODEL_TASKS = (INTRODUCE_TASK, PROJECT_TASK)
LEARN_TASKS = (HARVEST_TASK, LEARN_TASK, FORGET_TASK)  # the learner's, on LEARN_QUEUE
TASK_OF_KIND = {"introduce": INTRODUCE_TASK, "project": PROJECT_TASK}  # a job's kind -> the task that runs it
