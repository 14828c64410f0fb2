"""The API's models, one module per resource, named by role: the body of a command is
named for the command (``IncidentOpen``, ``IncidentEscalate``), an answer for what it
shows (``IncidentPublic`` for one, ``IncidentsPublic`` for a page: ``items`` and
``next_cursor``). What they share is in :mod:`services.api.models.common`."""
