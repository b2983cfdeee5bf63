"""The paper's names and numbers (:mod:`~advspeech.reporting.paper`), and what the render
rules write from scored items: tables (:mod:`~advspeech.reporting.tables`,
:mod:`~advspeech.reporting.defence_tables`, :mod:`~advspeech.reporting.budget`) and
figures and audio pages (:mod:`~advspeech.reporting.figures`)."""
