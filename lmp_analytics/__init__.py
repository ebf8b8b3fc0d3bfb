"""lmp_analytics: evaluation analytics for Læringsmiljøprosjektet (LMP).

Data flows one way: read -> map -> protect -> validate -> load -> publish -> metrics -> stats ->
privacy -> readmodels. See README.md for the data contract and the public API.
"""

__version__ = "0.1.0"
