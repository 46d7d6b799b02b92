"""The live counterpart: medcom plays the hospital or the municipality of a flow against a system under test.

`flow` reads the flows (TOML, `flows/`), `clock` is the accelerated real-time clock on the real calendar,
`transport` the folder drop and HTTP, `session` one run: the log, the engine fed as replay feeds it, the answers
and the verdict. The command is `medcom counterpart` (medcom.cli.counterpart); the report's renderers are in
medcom.reports.counterpart.
"""
