"""Celery workers: the app, thin tasks, batch admission, the job ledger, and the client that submits jobs.

    app.py          creates the Celery app from settings: JSON only, late acks, time limits, routes
    tasks.py        the batched tasks: decode, admit, call `implementor.models.pipeline`, encode
    model_set.py    the process's one model set, shared by its tasks, following promoted heads
    admission.py    a batch sorted out as it forms, its jobs admitted just before drafting; results recorded once
    ledger.py       attempts, the one result per job, recent job durations (Redis, or memory when embedded)
    progress.py     a running batch's stage and share done, written to the result backend (throttled)
    liveness.py     heartbeats: which worker holds which job, and how many serve each queue
    client.py       submit, follow and withdraw jobs; live workers and job times (the bot and the command line)
    embedded.py     the embedded default: a worker thread on an in-memory broker
    beat.py         Celery beat's persistent scheduler, with a heartbeat for its healthcheck
    metrics.py      batch sizes, stage times and drafts passing, for Prometheus, summed over the pool
    autoscale.py    grow the pool only when the GPU has room for another model set
    worker.py       the module `celery -A implementor.workers.worker worker` starts from

May import: `contracts`, `config`, `models` (the tasks load models lazily, in the worker process).
"""
