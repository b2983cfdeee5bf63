"""One resumable training loop for every trainable model (:mod:`~advspeech.training.trainer`):
fingerprinted state outside the rule's outputs, resume after a kill, the best weights by
a dev score, early stopping and the final checkpoint."""
