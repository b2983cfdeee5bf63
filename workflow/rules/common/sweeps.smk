"""The opt-in sweeps: the budget sweep (success against the SNR budget, rules
budget_attack/budget_trials/budget) and the query sweep (the black-box attacker against
its number of queries, rules evo_queries_*)."""

# The budget sweep: SNR budgets as labels in paths
SWEEP_SNRS = [f"{float(b):g}" for b in config["attacks"]["budget"]["snr_db"]]
SWEEP_SNR_PATTERN = "|".join(s.replace(".", r"\.") for s in SWEEP_SNRS)
SWEEP_DEFENCES = ["none", *(paper.se_system(se, "noisy") for se in RUN_SE_MODELS)]


def sweep_cells():
    """Every (attack, defence, budget) point of results/budget.csv, in table order."""
    return [
        {"attack": attack, "defence": defence, "snr_db_budget": float(snr), "snr": snr}
        for attack in RUN_ATTACKS
        for defence in SWEEP_DEFENCES
        for snr in SWEEP_SNRS
    ]


def sweep_inputs(wildcards):
    inputs = {}
    for i, c in enumerate(sweep_cells()):
        where = f"results/budget/{c['attack']}/snr{c['snr']}"
        inputs[f"manifest{i}"] = f"{where}/manifest.csv"
        inputs[f"trials{i}"] = f"{where}/ota_{c['defence']}.csv"
    return inputs


def evo_query_cells():
    """Every point of results/evo_queries.csv: the transfer example (0 queries), then
    the waveform search without and with the surrogate prior at each number of queries.
    """
    queries = config["attacks"]["evo_queries"]["budgets"]
    return [{"variant": "transfer", "queries": 0}] + [
        {"variant": variant, "queries": int(q)}
        for variant in ("noprior", "prior")
        for q in queries
    ]


def evo_queries_inputs(wildcards):
    inputs = {}
    for i, c in enumerate(evo_query_cells()):
        where = f"results/evo_queries/evo/{c['variant']}/q{c['queries']}"
        inputs[f"manifest{i}"] = evo_queries_manifest_path(c["variant"], c["queries"])
        inputs[f"trials{i}"] = f"{where}/ota.csv"
    return inputs


def evo_queries_manifest_path(variant, queries):
    """The examples a query-sweep point plays: the surrogate's own (transfer) or the
    search's at that number of queries."""
    if variant == "transfer":
        return "results/attacks/grad/surrogate/test/manifest.csv"
    return f"results/evo_queries/evo/{variant}/q{queries}/manifest.csv"


def evo_queries_manifest(wildcards):
    return evo_queries_manifest_path(wildcards.variant, wildcards.queries)


def evo_queries_prior_input(wildcards):
    if wildcards.variant != "prior":
        return {}
    return {
        "surrogate": "results/models/asr/surrogate.pt",
        "priors": "results/attacks/grad/surrogate/test/manifest.csv",
    }


def evo_query_settings(variant, queries):
    """attacks.evo with the waveform search at a number of queries, with or without
    the prior."""
    settings = attack_settings("evo")
    prior = "surrogate" if variant == "prior" else "none"
    return {**settings, "search": "waveform", "queries": int(queries), "prior": prior}
