"""Layer 4, rules: pure functions of an instrument, a proposal and a day, each rule with one home.

`availability` says whether an instrument can be applied for on a day (the one meaning of "open"), whether it covers
a region and whether an applicant type may apply; `eligibility` turns those and the stated limits into criterion
checks; `catalogue` is the one instrument filter (level, region, theme, applicant type, open on).
"""
