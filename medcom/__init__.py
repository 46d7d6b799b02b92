"""medcom: MedCom admission and discharge messages checked against the regional discharge agreement.

Layers, each importing only those below it (docs/ARCHITECTURE.md, pyproject.toml [tool.importlinter]): `cli`;
`reports`; `counterpart`; `replay`, `validate` (and the planner's `simulator` package beside them); `engine`
(the agreement's rules on SimPy); `events`; `formats` (OIOXML, FHIR, the input walk); `policy` and `findings`;
the leaves (`calendar`, `identifiers`, `catalogue`, `executors`, `safe_files`, `progress`, ...).
"""
