"""What medcom tells people and programs: one module per report (replay, validate, simulate, sweep, rules,
counterpart, the bill, the sensitivity analysis) in text, JSON (`schemas`), JUnit (`junit`) and HTML
(`html_page`), with the shared wording (`formatting`, `glossary`) and CPR masking (`masking`).
"""
