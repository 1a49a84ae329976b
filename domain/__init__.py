"""The pure domain: periods, goal-fulfilment and trend rules, target texts, the exchange format.

Nothing here touches the ORM, a request or settings, so every rule is tested without a
database and every layer above may use it.
"""
