"""What ties the library to the Snakemake workflow: the config's cross-key checks and
rule settings (:mod:`~advspeech.pipeline.config`), a rule's logging and runtime
(:mod:`~advspeech.pipeline.runtime`), the library files a workflow script depends on
(:mod:`~advspeech.pipeline.code_deps`) and the guard that keeps tuning tools off the
test split (:mod:`~advspeech.pipeline.split_guard`)."""
