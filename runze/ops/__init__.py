"""Use cases of the operations platform (users, work orders, crews, incidents, network versions, audit).

The only package that talks to `runze.store`.  Each write use case is one transaction (see `_tx.unit_of_work`):
it either commits everything it changed plus its audit entry, or leaves nothing behind.
"""
