"""Celery workers: the app, thin tasks, the model cache and micro-batching (issue "Workers")."""
