"""Training: everything that makes or measures a model, and nothing a worker needs to answer a job.

    corpus/       the writer's corpus: reading splits, building them (and the trade book) from ESCO
    face/         the DCGAN's data, photo preparation, training loop and evaluation
    writer/       the writer's fine-tuning (LoRA), training from scratch, evaluation, consistency measures
    rerank/       the heads' training data, training runs, calibration and evaluation
    adversarial/  the writer against its judge, in rounds; the sampling probe
    metrics.py    ROC AUC and Spearman's rho; plots.py: training curves as PNG panels

May import `implementor.models` (what it trains is what serving loads), `contracts` and `config`.
Serving (`implementor.models`) never imports this room; the learner's retraining calls into it.
"""
