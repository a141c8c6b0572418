"""What every model room shares: checkpoint directories, devices, the sentence encoder.

    checkpoint.py   config.json + model.safetensors + card.json; nothing is ever unpickled
    devices.py      `auto`, `cpu`, `cuda` -> a torch.device, with a clear error for a missing GPU
    encoder.py      BERT-family sentence encoders (the shipped all-MiniLM-L6-v2, or any by name/path)

May import: `contracts`, `config`. Nothing else of ours: every other room may import this one.
"""
