"""The face: a DCGAN that draws a colleague's face from a seed.

Serving:   dcgan.py (the generator and discriminator), generator.py (load, draw faces, PNG bytes)
Training:  data.py (LFW or a folder of crops), detect.py (OpenCV's face detector), prepare.py (photo
           folder -> crops), train.py (the GAN loop, checkpoints, resume), eval.py (face rate,
           diversity, memorisation)

May import: `contracts`, `config`, `models.common`. Serving modules never import training ones.
"""
