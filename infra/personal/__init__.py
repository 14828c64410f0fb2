"""Crypto-shredding: personal data encrypted under a key per data subject, so that
deleting one key erases a person from a history that never changes.

- :mod:`.keys`: the key store, its own SQLite file beside the event store.
- :mod:`.sealing`: the self-describing ciphertext of one field
  (``pii:v1:<kind>:<id>:<base64>``), AES-256-GCM.
- :mod:`.mapper`: the event store's mapper, which seals the fields an event class
  declares personal (``domain/personal.py``) as the event is stored, and opens them
  again for the domain when an aggregate is loaded.
- :mod:`.reveal`: opening sealed values where they leave OpsLedger (API answers,
  exports, replays); ``"[erased]"`` once the key is gone.

The hash chain, the relay, Kafka and the read models only ever see what is stored:
the ciphertext. Why decryption happens at the edges is in ``docs/ARCHITECTURE.md``.
"""
