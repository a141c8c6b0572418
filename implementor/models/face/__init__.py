"""The face: a DCGAN that draws a colleague's face from a seed.

    dcgan.py      the generator and discriminator (the model, one file)
    generator.py  load a checkpoint, draw faces, PNG bytes

Training lives in `implementor.training.face`. May import: `contracts`, `config`, `implementor.models.common`.
"""
