"""Federation between instances of the network (signed change feed, sync, remote bookings).

Not built yet: see issue 5. ``sharing`` models already carry an origin instance so that
replicas can be stored without changing the catalogue's shape.
"""
