"""The agreement's engine: `engine` delivers events in time order on SimPy and runs the deadlines the rules
set; `rules` holds one class per rule id; `completion_tax` prices the days a patient waits (TAX-1..TAX-5, R72-1).
Replay and the simulation run the same engine and rules.
"""
