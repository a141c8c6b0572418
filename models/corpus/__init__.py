"""The writer's corpus: consultant CVs and project request/reply pairs.

Reading:   splits.py (train/validation/test JSONL, validated line by line); light, for every trainer
Building:  build.py (ESCO similarity index, splits, datasheet), compose.py (one CV or pair from ESCO
           entries and Faker names), language.py (English rewrites), esco.py (ESCO's CSVs)

May import: `contracts`, `config`, `models.common`.
"""
