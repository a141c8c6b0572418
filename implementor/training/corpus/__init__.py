"""The writer's corpus: consultant CVs and project request/reply pairs.

Reading:   splits.py (train/validation/test JSONL, validated line by line); light, for every trainer
Building:  build.py (ESCO similarity index, splits, datasheet, the trade book), compose.py (one CV or
           pair from ESCO entries and Faker names), language.py (English rewrites), esco.py (ESCO's CSVs)

The trade book the writer serves with is `implementor.models.writer.trades`.
"""
