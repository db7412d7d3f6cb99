"""The API's request and response bodies, one module per resource.

Each resource has a family: `XCreate` (what a POST takes), `XUpdate` (what
a PATCH takes: every field optional, keys never), `XPublic` (what is
returned) and lists as `Page[XPublic]` (`{data, count}`).
"""
