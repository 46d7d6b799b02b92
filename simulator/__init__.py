"""The planner's simulation: a scenario (`scenario`, TOML) run as a stochastic hospital (`hospital`) and
municipality (`municipality`) feeding medcom's engine (`simulation`), over replications and variants (`run`,
`statistics`, `sweep`, `sensitivity`), with costs (`costs`, `bill`); `calibrate` fits a scenario to a log.
"""
