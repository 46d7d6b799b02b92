"""The message formats and the input walk: `read` detects an input's format and reads its messages (`inputs`
walks files, folders and archives; `xmlsafe` parses XML hardened), `oioxml` and `fhir` hold each format's
reading, checking and writing, `fhir_adapter` makes FHIR Bundles messages of a log, and `messages` the shape
every adapter gives back.
"""
