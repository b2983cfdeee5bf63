"""Render Table 4: over-the-air RoSA and WER per attack, victim and defence."""

from advspeech.core.io import write_csv, write_text
from advspeech.pipeline.runtime import rule_logging
from advspeech.reporting.tables import robustness_markdown, robustness_table, table_values_finite

with rule_logging(snakemake.log[0]) as log:
    p = snakemake.params
    files = {
        (attack_label, victim_label, defence_label): snakemake.input[f"{attack}__{asr}__{se}"]
        for attack_label, attack in p.attacks.items()
        for victim_label, asr in p.victims.items()
        for defence_label, se in p.defences.items()
    }
    wide, long = robustness_table(files, seed=p.seed)
    table_values_finite(wide.drop(columns=["attack"]))
    write_csv(snakemake.output.long, long)
    write_text(snakemake.output.markdown, robustness_markdown(long, list(p.defences), p.title))
    write_csv(snakemake.output.wide, wide)
    log.info("\n%s", wide.to_string(index=False))
