"""Layer 6, analysis: what consumes the pipeline's results: metrics and benchmarks, the weak-match calibration,
the gap analysis and its report.

`metrics` (success@k, MRR, nDCG on BEIR-shaped qrels and runs), `crosslingual` and `fund_routing` (benchmarks),
`calibration` (the weak-match threshold, stored as an artefact), `gaps` (demand and supply), `clusters` (unmet
demand grouped and labelled), `gap_report` (HTML and CSV files).
"""
