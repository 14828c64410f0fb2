"""OpsLedger's pure domain: aggregates, events and command services over one ledger.

Imports only the standard library, ``eventsourcing`` and itself.
"""
