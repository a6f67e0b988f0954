"""Layer 5, pipeline: proposals in, ranked and explained results out.

`matcher.Matcher` scores (retrieval), orders (ineligible last), checks (rules), explains (`explain`), suggests
partner regions (`partners`) and similar funded projects (`evidence`), and flags weak matches with the threshold
it is given.
"""
