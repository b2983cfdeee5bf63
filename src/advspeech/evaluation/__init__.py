"""Scoring and statistics: the metrics of one item (:mod:`~advspeech.evaluation.metrics`:
PESQ, STOI, STI, SNR, SI-SDR, WER), bootstrap intervals and paired tests
(:mod:`~advspeech.evaluation.statistics`), per-item scoring of a system's output
(:mod:`~advspeech.evaluation.scoring`) and the paper's claims checked on those items
(:mod:`~advspeech.evaluation.claims`)."""
