"""Privacy: the record that a data subject's personal data was erased (crypto-shredding).

The erasure itself, deleting the subject's key, happens in ``infra/personal/``; this
context records who asked for it, when and why, without holding any personal data.
"""
