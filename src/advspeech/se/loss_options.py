"""Options of the U-Nets' losses that the config checks need without importing torch."""

L1_STFT_ONLY_KEYS = ("log_floor_db", "snr_weight")
"""Settings of ``se.models.<unet>`` that apply to the ``l1_stft`` loss only."""
