"""Targeted audio attacks on a recogniser, and their evaluation over the air.

The registry :data:`ATTACKS` maps a config name to an attack; a new attack is one
module here and one entry below. Modules:

- :mod:`~advspeech.attacks.base`: the result record, the playback transform
  (band-pass, room, recording noise) and the skip rule every attack shares;
- :mod:`~advspeech.attacks.grad`: ``grad``, the white-box robust over-the-air attack;
- :mod:`~advspeech.attacks.evo`: ``evo``, the black-box evolutionary attack;
- :mod:`~advspeech.attacks.adaptive`: the attacker who knows the enhancement front end
  (Fig. 3);
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
