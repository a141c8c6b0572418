"""Training the face: data.py (LFW or a folder of crops), detect.py (OpenCV's face detector),
prepare.py (photo folder -> crops), train.py (the GAN loop, checkpoints, resume), eval.py (face rate,
diversity, memorisation). The model itself is `implementor.models.face.dcgan`.
"""
