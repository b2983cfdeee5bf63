"""Targeted audio attacks on a recogniser, and their evaluation over the air.

The registry :data:`ATTACKS` maps a config name to an attack; a new attack is one
module here and one entry below. Modules:

- :mod:`~advspeech.attacks.base`: the job and result records, the playback transform
  (band-pass, room, recording noise), the skip rule and the black-box query;
- :mod:`~advspeech.attacks.parts`: the room success criterion and the budget projection
  every attack applies, and the black-box searches' loop and results;
- :mod:`~advspeech.attacks.grad`: ``grad``, the white-box robust over-the-air attack;
- :mod:`~advspeech.attacks.evo`: ``evo``, the black-box evolutionary attack (the envelope
  search on the digital signal);
- :mod:`~advspeech.attacks.evo_waveform`: ``evo`` with ``search: waveform``, the
  evolution strategy on the over-the-air loss, optionally guided by a surrogate;
- :mod:`~advspeech.attacks.queries`: counts every signal a black-box victim hears;
- :mod:`~advspeech.attacks.adaptive`: the attacker who knows the enhancement front end
  (Fig. 3);
- :mod:`~advspeech.attacks.budget_search`: the quietest search (per utterance, the
  quietest SNR budget at which an attack still succeeds);
- :mod:`~advspeech.attacks.runner`: attacks a manifest of utterances and writes the files;
- :mod:`~advspeech.attacks.ota`: plays the written files in held-out rooms (Table 4).
"""

from __future__ import annotations

from advspeech.core.registry import LazyRegistry

ATTACKS: LazyRegistry = LazyRegistry(
    "attack",
    {"grad": "advspeech.attacks.grad:GRAD", "evo": "advspeech.attacks.evo:EVO"},
    config_key="attacks",
)
"""Config name -> :class:`~advspeech.attacks.base.Attack`."""
